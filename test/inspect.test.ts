// The read-only inspection API (src/inspect/): page-table trees with the last fault's entries
// marked, the fault-around window, page-cache XArray runs with DAX entries decoded, and the
// stepper that reaches any stop by a deterministic re-run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadScenarioFile } from '../src/scenario/load.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { timeline, snapshotAt } from '../src/inspect/stepper.ts';
import { newLeaves } from '../src/inspect/pgtable.ts';

const ex = (f: string): string => new URL(`../examples/${f}`, import.meta.url).pathname;

test('the first fault of a tmpfs read installs the 16 PTEs of its 64 KiB fault-around window', () => {
  const s = loadScenarioFile(ex('tmpfs-seq-read.yaml'));
  const tl = timeline(s);
  assert.equal(tl.error, null);
  assert.equal(tl.faults.length, 2048, 'one fault per 64 KiB of a 128 MiB file');
  const first = tl.stops.findIndex((x) => x.kind === 'fault');
  const snap = snapshotAt(s, tl, first);
  const lf = snap.lastFault!;
  assert.equal(lf.installed.length, 16);
  assert.deepEqual(lf.installed.map((l) => l.va - 0x7f0000000000), Array.from({ length: 16 }, (_, i) => i * 4096));
  assert.ok(lf.installed.every((l) => l.flags === 'P|U|A|NX'), 'read-only shared file PTEs, accessed');
  assert.equal(lf.installed[0]!.x86, '0x' + (2n ** 63n | (BigInt(lf.installed[0]!.pfn) << 12n) | 0x25n).toString(16));
  assert.deepEqual(lf.window, { startVa: 0x7f0000000000, endVa: 0x7f0000010000, firstPgoff: 0, lastPgoff: 15 });
  const pt = snap.processes[0]!.pageTable;
  assert.equal(pt.ptes, 16);
  assert.equal(newLeaves(pt).length, 16, 'the tree marks the same 16 leaves new');
  const cache = snap.caches.find((c) => c.path === '/mnt/shm/data')!;
  assert.deepEqual(cache.runs.map((r) => [r.kind, r.firstIndex, r.lastIndex, r.order]), [['folio', 0, 32767, 0]]);
  assert.ok(cache.runs[0]!.flags.includes('uptodate'));
});

test('the second fault marks only its own 16 PTEs new; a step stop marks the whole step', () => {
  const s = loadScenarioFile(ex('tmpfs-seq-read.yaml'));
  const tl = timeline(s);
  const first = tl.stops.findIndex((x) => x.kind === 'fault');
  const second = snapshotAt(s, tl, first + 1);
  assert.equal(second.processes[0]!.pageTable.ptes, 32);
  assert.deepEqual(newLeaves(second.processes[0]!.pageTable).map((l) => l.va - 0x7f0000000000)[0], 0x10000);
  const accessEnd = tl.stops.findIndex((x) => x.kind === 'step' && x.step === 3);
  const end = snapshotAt(s, tl, accessEnd);
  assert.equal(end.marksSince, 'step start');
  assert.equal(newLeaves(end.processes[0]!.pageTable).length, 32768);
  assert.equal(end.lastFault!.fault.n, 2048);
});

test('re-running to a stop is deterministic: the same snapshot twice', () => {
  const s = loadScenarioFile(ex('dax-two-writers.yaml'));
  const tl = timeline(s);
  const mid = tl.stops.findIndex((x) => x.kind === 'fault') + 3;
  assert.deepEqual(JSON.parse(JSON.stringify(snapshotAt(s, tl, mid))), JSON.parse(JSON.stringify(snapshotAt(s, tl, mid))));
});

test('a DAX PMD fault shows a huge PMD leaf and a PMD value entry with its PFN in the XArray', () => {
  const s = loadScenarioFile(ex('dax-populate.yaml'));
  const tl = timeline(s);
  const step = tl.stops.findIndex((x) => x.kind === 'step' && x.step === 5); // madvise POPULATE_WRITE
  const snap = snapshotAt(s, tl, step);
  const huge = snap.processes[0]!.pageTable.puds.flatMap((u) => u.pmds.flatMap((m) => m.huge));
  assert.equal(huge.length, 2, '4 MiB populated at a 2 MiB-aligned address: two PMDs');
  assert.ok(huge.every((h) => h.flags.split('|').includes('PSE') && h.flags.includes('DEVMAP') && h.mark === 'new'));
  const f = snap.caches.find((c) => c.path === '/mnt/f')!;
  assert.equal(f.dax, true);
  const runs = f.runs.filter((r) => r.kind === 'dax');
  assert.equal(runs.length >= 1, true);
  assert.ok(runs.every((r) => r.flags.includes('PMD') && r.order === 9 && r.pfn >= 1048576), 'PFNs above 4 GiB of DRAM');
  assert.equal(runs.reduce((n, r) => n + r.entries, 0), 2);
});

test('a scenario that cannot run reports its error in the timeline instead of throwing', () => {
  const s = parseScenario('machine: { memoryBytes: 1GiB }\nsteps:\n  - open: { path: /nope, flags: [O_RDONLY], fd: f }\n  - close: { fd: f }\n', 'inline');
  const tl = timeline(s);
  assert.match(tl.error ?? '', /fd "f" does not exist/);
  assert.equal(tl.stops.length, 1, 'the open step finished before the close step failed');
});

test('timeline counters follow the run: pgfault after the access step is 2048', () => {
  const tl = timeline(loadScenarioFile(ex('tmpfs-seq-read.yaml')));
  const c = tl.counters.find((x) => x.step === 3)!;
  assert.equal(c.pgfault, 2048);
  assert.equal(c.Rss, 128 * 1024);
  assert.ok(c.PageTables >= 64 * 4, '64 PTE tables for 128 MiB');
});
