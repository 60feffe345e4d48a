/**
 * A persistent hash map with open addressing; key 0 = empty. Buckets are a keys array and a values
 * array (keys at 0, values at 1024: a key and its value are in different cache lines), or, for
 * the 16-byte variants, 16-byte {key, value} buckets. Insert publishes an entry by its key: the
 * value must be durable before the key (the key is the commit). Invariant (check): every bucket
 * with a key holds that key's value (value = key * 7). (With key and value in one cache line an
 * unflushed value cannot land after its key: a line persists a prefix of its stores.)
 *
 * Variants: hash-map (value, persist, key with one 8-byte failure-atomic store, persist) and the
 * bug classes pmemcheck users report: the bucket written by one 16-byte store (torn at 8 bytes: the
 * key can land without the value), the value never flushed, and the flush not fenced.
 * Run: npm run daxsim -- crash examples/crash/hash-map.ts
 */
import type { CrashProgram, CrashContext, CrashView } from 'daxsim';
import { openPool, le64, u64, POOL } from './pool.ts';

const BUCKETS = 64, KEYS = [5, 69, 12, 133]; // 5 and 69 collide (mod 64): linear probing
type Bug = 'none' | 'aos' | 'torn-commit' | 'missing-flush' | 'missing-fence';
const POOL_BYTES = 2048;
const aos = (bug: Bug): boolean => bug === 'aos' || bug === 'torn-commit';
const keyOff = (bug: Bug, b: number): number => (aos(bug) ? b * 16 : b * 8);
const valueOff = (bug: Bug, b: number): number => (aos(bug) ? b * 16 + 8 : 1024 + b * 8);

function run(bug: Bug) {
  return (ctx: CrashContext): void => {
    const { pm, a } = openPool(ctx, new Uint8Array(POOL_BYTES));
    const used = new Set<number>();
    for (const key of KEYS) {
      let b = key % BUCKETS;
      while (used.has(b)) b = (b + 1) % BUCKETS;
      used.add(b);
      const at = a + keyOff(bug, b);
      if (bug === 'torn-commit' || bug === 'aos') {
        const e = new Uint8Array(16);
        e.set(le64(key), 0);
        e.set(le64(key * 7), 8);
        if (bug === 'aos') {
          pm.store64(at + 8, key * 7);
          pm.pmem_persist(at + 8, 8);
          pm.store64(at, key);
        } else pm.storeBytes(at, e); // one 16-byte store: not failure-atomic
        pm.pmem_persist(at, 16);
        continue;
      }
      const val = a + valueOff(bug, b);
      pm.store64(val, key * 7);
      if (bug === 'missing-fence') pm.pmem_flush(val, 8);
      else if (bug !== 'missing-flush') pm.pmem_persist(val, 8);
      pm.store64(at, key); // the commit: one aligned 8-byte store
      pm.pmem_persist(at, 8);
    }
  };
}

function checker(bug: Bug) {
  return (view: CrashView): string | null => {
    if (view.sizeBytes(POOL) < POOL_BYTES) return null; // the pool's creation never committed
    for (let b = 0; b < BUCKETS; b++) {
      const key = u64(view, keyOff(bug, b));
      if (key === 0) continue;
      const value = u64(view, valueOff(bug, b));
      if (value !== key * 7) return `bucket ${b} has key ${key} with value ${value}, expected ${key * 7}`;
    }
    return null;
  };
}

const variants: Array<[Bug, string]> = [
  ['none', 'value, persist, key (8-byte atomic), persist'],
  ['aos', '16-byte buckets: value, persist, key (8-byte atomic), persist'],
  ['torn-commit', '16-byte buckets: key and value written by one 16-byte store, then persisted'],
  ['missing-flush', 'the value is never flushed before the key'],
  ['missing-fence', 'the value is flushed (clwb) but not fenced before the key'],
];
const programs: CrashProgram[] = variants.map(([bug, description]) => ({
  name: bug === 'none' ? 'hash-map' : `hash-map-${bug}`, description, run: run(bug), check: checker(bug),
}));
export default programs;
