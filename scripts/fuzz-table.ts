// Regenerates the "Random programs" table of test/oracle-runs/KNOWN-DIFFERENCES.md by replaying
// every recorded batch of test/oracle-runs/fuzz/ in the model (as test/oracle-fuzz.test.ts does):
// one row per batch and first-difference signature, with the seeds; the last column ("what is
// known") is kept from the old row of the same batch and signature, or taken from another batch's
// row of that signature when it names the same seeds, else "(not yet traced)".
// Usage: node scripts/fuzz-table.ts [--check]   (--check: exit 1 if the table would change)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBatch, replayRun } from '../src/oracle/fuzz-command.ts';
import { signature } from '../src/oracle/shrink.ts';

const ROOT = join(import.meta.dirname, '..', 'test', 'oracle-runs');
const MD = join(ROOT, 'KNOWN-DIFFERENCES.md');
const text = readFileSync(MD, 'utf8');
const lines = text.split('\n');
const ROW = /^\|\s*fuzz\/([\w.-]+\.jsonl)\s*\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|\s*([^|]*)\|\s*(.*)\|\s*$/;
const notes = new Map<string, string>();
const bySig = new Map<string, Array<{ seeds: string; note: string }>>();
let first = -1, last = -1;
lines.forEach((l, i) => {
  const m = ROW.exec(l);
  if (!m) return;
  if (first < 0) first = i;
  last = i;
  notes.set(`${m[1]}#${m[2]}`, m[5]!.trim());
  const list = bySig.get(m[2]!) ?? [];
  list.push({ seeds: m[4]!.trim(), note: m[5]!.trim() });
  bySig.set(m[2]!, list);
});
if (first < 0) throw new Error(`${MD}: no "| fuzz/... |" rows found`);

const rows: string[] = [];
for (const file of readdirSync(join(ROOT, 'fuzz')).filter((f) => f.endsWith('.jsonl')).sort()) {
  const got = new Map<string, number[]>();
  for (const x of loadBatch(readFileSync(join(ROOT, 'fuzz', file), 'utf8'))) {
    const d = replayRun(x);
    if (d.length === 0) continue;
    const sig = signature(d[0]!);
    const seed = Number(/seed(\d+)/.exec(x.meta.scenario)?.[1] ?? -1);
    got.set(sig, [...(got.get(sig) ?? []), seed]);
  }
  for (const [sig, seeds] of [...got].sort((a, b) => a[0] < b[0] ? -1 : 1)) {
    const s = `seeds ${seeds.sort((a, b) => a - b).join(' ')}`;
    const note = notes.get(`${file}#${sig}`) ?? bySig.get(sig)?.find((r) => r.seeds === s)?.note ?? '(not yet traced)';
    rows.push(`| fuzz/${file} | \`${sig}\` | ${seeds.length} | ${s} | ${note} |`);
  }
}
const out = [...lines.slice(0, first), ...rows, ...lines.slice(last + 1)].join('\n');
if (process.argv.includes('--check')) {
  if (out !== text) { console.error('KNOWN-DIFFERENCES.md: the Random programs table is out of date'); process.exit(1); }
} else {
  writeFileSync(MD, out);
  console.log(`${rows.length} rows written to ${MD}`);
}
