// Replays every recorded real-kernel run in test/oracle-runs/ (made by `daxsim kernel --record`)
// in the model and compares every figure exactly. The differences listed in
// test/oracle-runs/KNOWN-DIFFERENCES.md must still differ (so a fix is noticed and the entry
// removed); every other figure must be equal. No kernel is booted here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelScenario, type RecordMeta } from '../src/oracle/command.ts';
import { profileFor } from '../src/oracle/profiles.ts';
import { modelRun, type StepFigures } from '../src/oracle/model-side.ts';
import { compareRun } from '../src/oracle/compare.ts';
import type { RealRun, RunnerHeader } from '../src/oracle/host.ts';

const DIR = join(import.meta.dirname, 'oracle-runs');

/** `| file | step | field | ... |` rows of KNOWN-DIFFERENCES.md. */
function knownDifferences(): Set<string> {
  const rows = readFileSync(join(DIR, 'KNOWN-DIFFERENCES.md'), 'utf8').split('\n')
    .filter((l) => /^\|\s*[\w.-]+\.jsonl\s*\|/.test(l));
  return new Set(rows.map((l) => {
    const [file, step, field] = l.split('|').slice(1, 4).map((c) => c.trim().replace(/`/g, ''));
    return `${file}#${step}#${field}`;
  }));
}

function load(file: string): { meta: RecordMeta; real: RealRun } {
  const lines = readFileSync(join(DIR, file), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const meta = lines.find((l) => l.meta === 1) as RecordMeta;
  const header = lines.find((l) => l.hdr === 1) as RunnerHeader;
  const steps = lines.filter((l) => typeof l.i === 'number') as StepFigures[];
  assert.ok(meta && header && lines.some((l) => l.end === true), `${file}: meta, header and end lines`);
  return { meta, real: { header, steps, warnings: [] } };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort();
const known = knownDifferences();

test('recorded real-kernel runs exist (6.18 host tmpfs-seq-read at least)', () => {
  assert.ok(files.includes('tmpfs-seq-read.linux-6.18.tmpfs.jsonl'), files.join(', '));
});

for (const file of files) {
  test(`model against ${file}`, () => {
    const { meta, real } = load(file);
    const s = modelScenario(meta.text, meta.scenario, meta.fsOverride ?? undefined, meta.readAheadKb ?? undefined);
    // Each kernel's own profile today (a run recorded before that profile existed names its stand-in).
    const model = modelRun(s, { softDirty: real.header.soft_dirty }, profileFor(meta.kernel).profile).steps;
    const diffs = compareRun(s, model, real);
    // A row's step or field may be `*`: every step, every field (a whole step wrong for one cause).
    const keys = (d: { step: number; field: string }): string[] => [
      `${file}#${d.step}#${d.field}`, `${file}#${d.step}#*`,
      `${file}#*#${d.field}`, `${file}#*#*`];
    const found = new Set(diffs.flatMap(keys));
    const unexpected = diffs.filter((d) => !keys(d).some((k) => known.has(k)))
      .map((d) => `step ${d.step} (${d.op}) ${d.field}: model ${d.model}, kernel ${d.kernel}`);
    assert.deepEqual(unexpected, [], `${file}: figures that differ from the real kernel`);
    const fixed = [...known].filter((k) => k.startsWith(`${file}#`) && !found.has(k));
    assert.deepEqual(fixed, [], `${file}: listed in KNOWN-DIFFERENCES.md but equal now (remove the entry)`);
  });
}
