/**
 * "Did you mean": the candidates nearest a misspelt word by edit distance, for error messages
 * about user input (kernel profile and knob names, knob values). Not kernel behaviour.
 */

/** Edit distance (insertions, deletions, substitutions), case-insensitive. */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous: number[] = [];
  for (let j = 0; j <= y.length; j++) previous.push(j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/**
 * The candidates nearest `word`, all of those tied at the smallest distance, when that distance is
 * at most a third of the word's length (at least 1, at most 3): `linux-6.81` -> `linux-6.18`,
 * `faultAroundByte` -> `faultAroundBytes`, `Linux-6.1` -> `linux-6.1`. Empty when none is near.
 */
export function nearest(word: string, candidates: readonly string[]): string[] {
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string[] = [];
  let bestDistance = limit + 1;
  for (const c of candidates) {
    if (c === word) continue;
    const d = editDistance(word, c);
    if (d < bestDistance) {
      best = [c];
      bestDistance = d;
    } else if (d === bestDistance) {
      best.push(c);
    }
  }
  return best;
}

/** ` (did you mean "a" or "b"?)` for the nearest candidates, or '' when none is near. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const best = nearest(word, candidates);
  if (best.length === 0) return '';
  return ` (did you mean ${best.map((c) => JSON.stringify(c)).join(' or ')}?)`;
}
