/**
 * The seed experiments (issue 4): the figures used to fit the cost table stay reproduced, the
 * held-out figures that are exact by the post's own arithmetic come out exactly, and Kara's
 * contention shape holds (seed 003: MAP_SYNC on an empty file costs a journal commit per fault;
 * background copying widens the tail). Simulated times are model outputs, deterministic for a
 * given scenario; no host timing is asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { experiments, rowOk, karaLatencies, HOST_REREAD_SPEEDUP, type Experiment
  } from '../src/reproduce/experiments.ts';

function row(e: Experiment, metric: string) {
  const r = e.rows.find((x) => x.metric === metric);
  assert.ok(r, `row ${metric}`);
  return r;
}

test('kani-2014: fit rows reproduced; the fault reduction (-87%) and the 64 KB figures follow from the '
  + 'mechanism', () => {
  const e = experiments['kani-2014']!();
  for (const r of e.rows.filter((x) => x.role === 'fit')) assert.ok(rowOk(r), `${r.metric}: ${r.simulated} vs ${r.published}`);
  assert.equal(row(e, '128MB page faults, map_pages').simulated, 8312);
  assert.equal(row(e, '128MB fault reduction').simulated, -87);
  assert.ok(rowOk(row(e, '64KB read speed-up')));
});

test('kani-2014: every held-out row holds; the 128 MB re-reads are disputed and the 64 KB re-read is unmodelled, each '
  + 'naming its measurement', () => {
  const e = experiments['kani-2014']!();
  for (const r of e.rows.filter((x) => x.role === 'held-out')) assert.ok(rowOk(r), `${r.metric}: ${r.simulated} vs ${r.published}`);
  assert.deepEqual(e.rows.filter((x) => x.role === 'disputed').map((x) => x.metric), ['128MB re-read, map_pages', '128MB re-read speed-up']);
  for (const r of e.rows.filter((x) => x.role === 'disputed' || x.role === 'unmodelled')) assert.match(r.note ?? '', /6\.18 host/, r.metric);
  assert.ok(e.rows.some((x) => x.metric === '64KB re-read, map_pages' && x.role === 'unmodelled'));
  // The model runs the same work in both passes: a re-read costs what a read costs, as the host
  // measures at 128 MiB on tmpfs and ext4 (test/oracle/linux-6.18-host-reread.jsonl).
  for (const r of e.rows.filter((x) => x.metric.startsWith('real kernel') && x.metric.includes('128 MiB'))) assert.equal(r.role, 'held-out');
});

test('HOST_REREAD_SPEEDUP holds the medians of the 6.18 host measurements '
  + '(test/oracle/linux-6.18-host-reread.jsonl)', () => {
  const rows = readFileSync(new URL('./oracle/linux-6.18-host-reread.jsonl', import.meta.url), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as { fs: string; file_kb: number; va_skew: number; evict: number; pass: string; ns: number });
  const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2; };
  for (const h of HOST_REREAD_SPEEDUP) {
    const sel = (pass: string) => rows.filter((r) => r.fs === h.fs && r.file_kb === h.fileKb && r.va_skew === 0 && r.evict === (h.evict ? 1 : 0) && r.pass === pass).map((r) => r.ns);
    const read = sel('read'), reread = sel('reread');
    assert.equal(read.length, 10, `${h.fs} ${h.fileKb}`);
    assert.ok(Math.abs(median(read) / median(reread) - h.speedup) < 0.006, `${h.fs} ${h.fileKb} evict=${h.evict}: ${median(read) / median(reread)} vs ${h.speedup}`);
  }
});

test('kara-2017: MAP_SYNC on an empty file costs one journal commit per fault; background copying widens the '
  + 'tail', () => {
  const base = { prealloc: false, sync: true, background: false, published: { min: 0, avg: 0, max: 0, hist: [] } };
  const quiet = karaLatencies({ ...base, label: 'quiet' });
  const busy = karaLatencies({ ...base, label: 'busy', background: true });
  const noSync = karaLatencies({ ...base, label: 'no sync', sync: false });
  const avg = (l: number[]) => l.reduce((s, x) => s + x, 0) / l.length;
  assert.equal(quiet.length, 511);
  // The difference is one commit (journalCommitBaseNs + per-block cost) per fault.
  assert.ok(avg(quiet) - avg(noSync) > 80 && avg(quiet) - avg(noSync) < 90, `${avg(quiet)} vs ${avg(noSync)}`);
  assert.ok(Math.max(...busy) > Math.max(...quiet), 'a commit that meets the copier\'s open handle waits for it');
  assert.ok(avg(busy) >= avg(quiet));
  const e = experiments['kara-2017']!();
  for (const r of e.rows.filter((x) => x.role === 'fit')) assert.ok(rowOk(r), r.metric);
  // Held out: both background rows, and MAP_SYNC's cost ratio on a preallocated file against the
  // real 6.1 guest (../shared/oracle/linux-6.1-guest.md §5: 9.6 / 9.9 us).
  for (const r of e.rows.filter((x) => x.role === 'held-out')) assert.ok(rowOk(r), `${r.metric}: ${r.simulated} vs ${r.published}`);
  assert.equal(e.rows.filter((x) => x.role === 'held-out').length, 3);
  // The v2 post's preallocated MAP_SYNC 10 us is contradicted by the kernels; it is shown, not targeted.
  const d = e.rows.filter((x) => x.role === 'disputed');
  assert.deepEqual(d.map((x) => x.metric), ['File preallocated, no background load, MAP_SYNC: avg']);
  assert.ok(d[0]!.note && /6\.1 guest/.test(d[0]!.note));
  assert.equal(e.histograms.length, 6);
});

test('zwisler-2017 and shutemov-2014: held-out counts are exact (1 GiB vs 0 of page cache; 2048 faults as on '
  + '6.18)', () => {
  const z = experiments['zwisler-2017']!();
  for (const r of z.rows.filter((x) => x.role === 'held-out')) assert.ok(rowOk(r), r.metric);
  const s = experiments['shutemov-2014']!();
  for (const r of s.rows.filter((x) => x.role === 'held-out')) assert.ok(rowOk(r), r.metric);
  assert.equal(row(s, '32-page RFC (seed 001), sequential read of a cached 128 MiB file: faults').simulated, 1024);
});

test('wilcox-2014: the PFN cache removes get_block calls on repeat faults and msync flushes only dirty pages', () => {
  const w = experiments['wilcox-2014']!();
  assert.equal(row(w, 'rfc-wilcox-2014: get_block calls for 4096 repeat faults').simulated, 0);
  assert.equal(row(w, 'dax-2014: get_block calls for 4096 repeat faults').simulated, 4096);
  assert.equal(row(w, 'rfc-wilcox-2014: cache lines written back by msync after dirtying 16 of 4096 pages').simulated, 16 * 64);
});

test('CLI: daxsim reproduce NAME --json --plot DIR prints JSON and writes an SVG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-plot-'));
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'reproduce', 'zwisler-2017', '--json', '--plot', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { experiments: Experiment[]; heldOutOutsideTolerance: string[] };
  assert.equal(out.experiments[0]!.name, 'zwisler-2017');
  assert.deepEqual(out.heldOutOutsideTolerance, []);
  assert.match(readFileSync(join(dir, 'zwisler-2017.svg'), 'utf8'), /^<svg[^>]*>[\s\S]*<\/svg>$/);
  const bad = spawnSync(process.execPath, ['src/cli/main.ts', 'reproduce', 'nope'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown experiment "nope"/);
});
