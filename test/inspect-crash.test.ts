/**
 * Issue 14: the crash pane's data (src/inspect/crash.ts), as the browser view gets it, checked
 * without a browser. The invariant is the explorer's fsync/msync durability rule: after msync
 * returns, the synced pages must survive a power failure. dax-2014's DAX msync wrote nothing back
 * (the 2014 DAX patches had no dax_writeback_mapping_range; it came with v4.5, fs/dax.c), while
 * linux-4.15's writes the dirty lines back, so only the former fails, at the msync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadScenarioFile } from '../src/scenario/load.ts';
import { crashOverview, crashStateOf, hasPmem } from '../src/inspect/crash.ts';

test('crash pane: dax-2014 msync fails at the msync and after it; each point lists what it was and its states', () => {
  const s = loadScenarioFile('examples/crash/msync-dax-2014.yaml');
  assert.ok(hasPmem(s));
  const o = crashOverview(s);
  assert.equal(o.result.verdict, 'fail');
  assert.equal(o.points.length, o.result.crashPoints);
  assert.equal(o.points.reduce((a, p) => a + p.states, 0), o.result.states);
  const failing = o.points.filter((p) => p.failure);
  assert.ok(failing.length > 0 && failing.every((p) => p.failure!.invariant === 'fsync/msync durability'));
  assert.equal(failing[0]!.where, 'syscall', 'the first failing point is the msync returning');
  const state = crashStateOf(s, failing[0]!);
  assert.deepEqual(state.violation?.[0], 'fsync/msync durability');
  assert.ok(state.lines.length > 0 && state.lines.every((l) => l.kept === 0 && l.cpu[0] === 7 && l.media[0] === 0));
  // The point before: nothing was promised yet, and the least-kept state holds.
  const before = o.points[o.points.indexOf(failing[0]!) - 1]!;
  assert.equal(before.failure, null);
  assert.equal(crashStateOf(s, before).violation, null);
});

test('crash pane: linux-4.15 msync holds at every point; a scenario without pmem has no crash pane', () => {
  const o = crashOverview(loadScenarioFile('examples/crash/msync-linux-4.15.yaml'));
  assert.ok(o.points.length > 0);
  assert.ok(o.points.every((p) => p.failure === null));
  assert.equal(hasPmem(loadScenarioFile('examples/tmpfs-seq-read.yaml')), false);
});
