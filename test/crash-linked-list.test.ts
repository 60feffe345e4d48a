/**
 * Issue 15: the persistent linked list example (examples/crash/linked-list.ts). Store model as in
 * test/crash-pm.test.ts: an aligned 8-byte store is failure-atomic (Intel SDM vol. 3A §8.1.1), a
 * dirty line persists a prefix of its stores, pmem_persist = CLWB per line + SFENCE (libpmem
 * pmem_flush(3)). The fixed list is checked over every crash state of every crash point (no
 * sampling, no cut-off) with the incremental check cross-checked; each planted ordering bug is
 * found at the store that exposes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { explore } from '../src/index.ts';
import list from '../examples/crash/linked-list.ts';

const FILE = 'examples/crash/linked-list.ts';
const prog = (name: string) => list.find((p) => p.name === name)!;
/** The 1-based line of the example that contains `text` (so the test follows edits of the example). */
function lineOf(text: string): number {
  const i = readFileSync(FILE, 'utf8').split('\n').findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} is in ${FILE}`);
  return i + 1;
}

test('linked list: the fixed version holds in every crash state of every crash point (exhaustive, cross-checked)',
  () => {
  const r = explore(prog('linked-list'), { crossCheck: true, exhaustiveLimit: Number.MAX_SAFE_INTEGER });
  assert.equal(r.verdict, 'pass');
  assert.equal(r.sampledPoints, 0);
  assert.equal(r.truncated, false);
  assert.equal(r.exhaustivePoints, r.crashPoints);
  // Every store, flush and fence of 4 inserts and a removal is a crash point, and some have 2+ images.
  assert.ok(r.crashPoints > 40 && r.states > r.crashPoints, `${r.crashPoints} points, ${r.states} states`);
});

test('linked list: count lags head in some crash state, so the fixed list passes only with its recovery', () => {
  const r = explore({ ...prog('linked-list'), recover: undefined });
  assert.equal(r.verdict, 'fail');
  assert.match(r.failures[0]!.message, /^count is \d+ but the list has \d+ nodes$/);
});

test('linked list: publishing head before persisting the node is found at the head store; head points at a zeroed '
  + 'node', () => {
  const f = explore(prog('linked-list-publish-first')).failures[0]!;
  assert.equal(f.source, `${FILE}:${lineOf('pm.store64(a + HEAD, node)')}`);
  assert.equal(f.op, 'store64');
  assert.deepEqual(f.file, { path: '/mnt/pool', offset: 0 });
  assert.match(f.message, /^node at 64 is reachable but zeroed/);
  // The failing image keeps head (line 0) and none of the node's stores (line 1).
  assert.deepEqual(f.lines.map((l) => [l.offset, l.kept]).sort(), [[0, 1], [64, 0]]);
});

test('linked list: freeing the removed node before unlinking it is found at the memset; the list loses its tail',
  () => {
  const r = explore(prog('linked-list-free-before-unlink'), { stopAtFirstFailure: false });
  assert.equal(r.verdict, 'fail');
  const f = r.failures[0]!;
  assert.equal(f.source, `${FILE}:${lineOf('pm.memset(a + victim, 0, 64)')}`);
  assert.equal(f.op, 'memset');
  assert.deepEqual(f.file, { path: '/mnt/pool', offset: 128 });
  assert.ok(r.failures.every((x) => x.invariant === 'check'));
});

test('linked list from the CLI: exit 0 for the fixed list, 1 for each bug', () => {
  const cli = (name: string) => spawnSync(process.execPath, ['src/cli/main.ts', 'crash', FILE, '--program', name],
    { encoding: 'utf8' });
  const ok = cli('linked-list');
  assert.equal(ok.status, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /PASS: all \d+ crash states of every crash point/);
  for (const bug of ['linked-list-publish-first', 'linked-list-free-before-unlink']) {
    const r = cli(bug);
    assert.equal(r.status, 1, bug);
    assert.match(r.stdout, /BROKEN at crash point \d+ \((store64|memset) at examples\/crash\/linked-list\.ts:\d+/);
  }
});
