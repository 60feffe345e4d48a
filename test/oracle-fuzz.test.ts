// Replays the recorded random programs of test/oracle-runs/fuzz/ (made by `daxsim fuzz --record`
// on real kernels: 6.18 on this machine, Debian 6.1/5.10/6.12/7.2 in QEMU guests) in the model and
// compares every figure of every program exactly (src/oracle/compare.ts, as `daxsim kernel`).
// A program whose first difference has a signature listed for its batch in the "Random programs"
// table of test/oracle-runs/KNOWN-DIFFERENCES.md is a known difference; the table gives, per batch
// and signature, how many programs differ so, and the test checks that exact count: a new
// difference fails, and so does a fix (until its row is updated). No kernel is booted here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBatch, replayRun } from '../src/oracle/fuzz-command.ts';
import { signature } from '../src/oracle/shrink.ts';

const ROOT = join(import.meta.dirname, 'oracle-runs');
const DIR = join(ROOT, 'fuzz');

/** `| fuzz/BATCH | `SIGNATURE` | COUNT | ... |` rows: batch#signature -> number of programs. */
function knownCounts(): Map<string, number> {
  const out = new Map<string, number>();
  for (const l of readFileSync(join(ROOT, 'KNOWN-DIFFERENCES.md'), 'utf8').split('\n')) {
    const m = /^\|\s*fuzz\/([\w.-]+\.jsonl)\s*\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|/.exec(l);
    if (m) out.set(`${m[1]}#${m[2]}`, Number(m[3]));
  }
  return out;
}

const batches = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort() : [];
const known = knownCounts();

test('recorded random-program batches exist: 6.18 host tmpfs and ext4, 300 programs each', () => {
  for (const fs of ['tmpfs', 'ext4']) {
    const f = batches.find((b) => b.startsWith(`fuzz-${fs}-`) && b.endsWith('.linux-6.18.jsonl'));
    assert.ok(f, `a 6.18 ${fs} batch in ${DIR}: ${batches.join(', ')}`);
    assert.ok(loadBatch(readFileSync(join(DIR, f), 'utf8')).length >= 300, `${f}: at least 300 programs`);
  }
});

for (const file of batches) {
  test(`model against the random programs of ${file}`, () => {
    const runs = loadBatch(readFileSync(join(DIR, file), 'utf8'));
    const got = new Map<string, number>();
    for (const x of runs) {
      const diffs = replayRun(x);
      if (diffs.length === 0) continue;
      const sig = signature(diffs[0]!);
      got.set(sig, (got.get(sig) ?? 0) + 1);
    }
    const want = new Map([...known].filter(([k]) => k.startsWith(`${file}#`))
      .map(([k, n]) => [k.slice(file.length + 1), n]));
    const show = (m: Map<string, number>): string[] => [...m].map(([s, n]) => `${s}: ${n}`).sort();
    assert.deepEqual(show(got), show(want),
      `${file}: programs differing from the real kernel, by first difference (KNOWN-DIFFERENCES.md)`);
  });
}
