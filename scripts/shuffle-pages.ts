// Prints a seeded random permutation of 0..N-1 as a YAML flow list (Fisher-Yates with xorshift32),
// for `access: { pages: [...] }` in example scenarios: node scripts/shuffle-pages.ts N SEED
const [n, seed] = process.argv.slice(2).map(Number);
if (!Number.isInteger(n) || !Number.isInteger(seed) || n! <= 0 || seed === 0) {
  console.error('usage: node scripts/shuffle-pages.ts N SEED   (N > 0, SEED a non-zero integer)');
  process.exit(2);
}
let x = seed! >>> 0;
const next = (): number => {
  x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
  return x;
};
const a = Array.from({ length: n! }, (_, i) => i);
for (let i = n! - 1; i > 0; i--) {
  const j = next() % (i + 1);
  [a[i], a[j]] = [a[j]!, a[i]!];
}
process.stdout.write(`[${a.join(',')}]`);
