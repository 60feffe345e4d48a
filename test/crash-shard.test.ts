/**
 * Issue 15: the incremental invariant check and sharded exploration must not change what the
 * explorer finds. The incremental expectDurable check (src/crash/incremental.ts) is compared with
 * the full per-state check on every state of the PM examples (crossCheck asserts they agree);
 * shards (src/crash/shard.ts) merged give the result of a single run, on 1 to 3 shards and on
 * worker threads. The store and persistence rules themselves are those of src/hw/pmem.ts (Intel
 * SDM vol. 3A §8.1.1, §11.3.1), tested in test/crash-pm.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore, type CrashProgram, type ExploreResult } from '../src/crash/explore.ts';
import { mergeShards, exploreOnWorkers } from '../src/crash/shard.ts';
import mapSync from '../examples/crash/map-sync.ts';
import hashMap from '../examples/crash/hash-map.ts';
import redoLog from '../examples/crash/redo-log.ts';
import logAppend from '../examples/crash/log-append.ts';
import msync from '../examples/crash/msync.ts';

const programs: CrashProgram[] = [...mapSync, ...hashMap, ...redoLog, ...logAppend, ...msync];

function comparable(r: ExploreResult): object {
  const { hostMs: _h, statesPerSecond: _s, shard: _x, ...rest } = r;
  return rest;
}

test('the incremental expectDurable check agrees with the full check on every state of the PM examples', () => {
  for (const p of programs) {
    const r = explore(p, { crossCheck: true, stopAtFirstFailure: false });
    assert.ok(r.states > 0, `${p.name} explored nothing`);
  }
});

test('merged shards give the single run\'s states, points, failures and verdict (1 to 3 shards, --all or not)', () => {
  for (const p of programs) {
    for (const stopFirst of [true, false]) {
      const whole = comparable(explore(p, { stopAtFirstFailure: stopFirst }));
      for (let n = 1; n <= 3; n++) {
        const parts = Array.from({ length: n }, (_, index) =>
          explore(p, { stopAtFirstFailure: stopFirst, shard: { index, count: n } }));
        assert.deepEqual(comparable(mergeShards(parts, stopFirst)), whole, `${p.name}, ${n} shards, stopFirst ${stopFirst}`);
      }
    }
  }
});

test('a --max-states cut is where a single run makes it, whatever the shards', () => {
  const p = mapSync.find((x) => x.name === 'flush-with-map-sync')!;
  const whole = comparable(explore(p, { maxStates: 1000 }));
  const parts = [0, 1].map((index) => explore(p, { maxStates: 1000, shard: { index, count: 2 } }));
  assert.deepEqual(comparable(mergeShards(parts, true, 1000)), whole);
  assert.equal((whole as ExploreResult).verdict, 'partial');
});

test('exploration on worker threads gives the single run\'s result', async () => {
  const file = new URL('../examples/crash/hash-map.ts', import.meta.url).pathname;
  for (const p of hashMap) {
    const r = await exploreOnWorkers(file, p.name, { stopAtFirstFailure: false }, 2);
    assert.deepEqual(comparable(r), comparable(explore(p, { stopAtFirstFailure: false })), p.name);
  }
});
