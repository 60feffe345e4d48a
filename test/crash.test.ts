/**
 * Power failure and the crash explorer (issue 5). Durability rules: a store reaches the media
 * only when its line is written back and fenced (CLWB/CLFLUSHOPT + SFENCE, CLFLUSH), by the
 * kernel's DAX write-back on fsync/msync (reference §4.10), or by an eviction the program cannot
 * control (any prefix of a line's stores); metadata survives only when its transaction committed;
 * MAP_SYNC commits an allocation before the PTE is writable (seed 003, reference §4.6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { explore, replay, type CrashProgram } from '../src/crash/explore.ts';
import logAppend from '../examples/crash/log-append.ts';
import mapSync from '../examples/crash/map-sync.ts';
import msync from '../examples/crash/msync.ts';

const byName = (list: CrashProgram[], name: string) => list.find((p) => p.name === name)!;

test('crash example 1: a fenced log append survives every crash; without the fence the explorer finds a flag without '
  + 'its record', () => {
  const ok = explore(byName(logAppend, 'log-append-fenced'));
  assert.deepEqual(ok.failures, []);
  assert.ok(ok.states > 1000 && ok.crashPoints > 100, `${ok.states} states at ${ok.crashPoints} points`);
  const bad = explore(byName(logAppend, 'log-append-no-fence'));
  assert.equal(bad.failures.length, 1);
  const f = bad.failures[0]!;
  assert.equal(f.invariant, 'check');
  assert.match(f.message, /valid flag set but record byte \d+ is/);
  // The failing state: the flag's line reached the media, part of the record did not.
  assert.ok(f.lines.some((l) => l.kept < l.stores));
  // Replaying the reported state rebuilds exactly that state.
  const r = replay(byName(logAppend, 'log-append-no-fence'), f.point, f.choice);
  assert.deepEqual(r.violation, ['check', f.message]);
});

test('crash example 2: user-space flushes of a mapped empty file lose a block without MAP_SYNC, never with it', () => {
  const without = explore(byName(mapSync, 'flush-without-map-sync'));
  assert.equal(without.failures.length, 1);
  assert.equal(without.failures[0]!.invariant, 'expectDurable');
  // Only the fsync after creating the file has committed (tid 1); the allocation is in tid 2, running.
  assert.equal(without.failures[0]!.committedTid, 1);
  const withSync = explore(byName(mapSync, 'flush-with-map-sync'));
  assert.deepEqual(withSync.failures, []);
});

test('crash example 3: msync keeps the data on every profile with DAX write-back; the 2014 base does not flush', () => {
  for (const p of msync) {
    const r = explore(p);
    if (p.profile === 'dax-2014') {
      assert.equal(r.failures.length, 1, p.name);
      assert.equal(r.failures[0]!.invariant, 'fsync/msync durability');
    } else assert.deepEqual(r.failures, [], p.name);
  }
});

test('eADR: with the CPU caches in the persistence domain, even the unfenced log append is safe', () => {
  const p = byName(logAppend, 'log-append-no-fence');
  const r = explore({ ...p, name: 'eadr', persistence: 'eadr' });
  assert.deepEqual(r.failures, []);
  assert.equal(r.states, r.crashPoints, 'one image per crash point');
});

test('the built-in MAP_SYNC invariant holds at every crash point of the MAP_SYNC program (each PTE becomes writable '
  + 'only after its commit)', () => {
  // Without MAP_SYNC the kernel gives no guarantee, so the built-in invariant only covers
  // MAP_SYNC mappings; here it holds at each of the 4 faults' crash points.
  const r = explore(byName(mapSync, 'flush-with-map-sync'), { stopAtFirstFailure: false });
  assert.equal(r.failures.length, 0);
  assert.ok(r.crashPoints > 4 * 64);
});

test('sampling is seeded: the same seed explores the same states', () => {
  const p = byName(logAppend, 'log-append-fenced');
  const a = explore(p, { exhaustiveLimit: 4, samplesPerPoint: 8, seed: 7 });
  const b = explore(p, { exhaustiveLimit: 4, samplesPerPoint: 8, seed: 7 });
  assert.equal(a.states, b.states);
  assert.ok(a.sampledPoints > 0);
});

test('CLI: daxsim crash FILE reports failures with a replay command, exits 1; a bad replay is a clear error', () => {
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'crash', 'examples/crash/log-append.ts'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /log-append-fenced .*\n  PASS: all \d+ crash states of every crash point satisfy the invariants/);
  // The report names the operation, the program's source line and the file offset it stored to.
  assert.match(r.stdout, /BROKEN at crash point \d+ \(store at examples\/crash\/log-append\.ts:\d+, \/mnt\/log offset 128\): check: valid flag set/);
  const cmd = /replay: npm run daxsim -- crash \S+ --program "([^"]+)" --replay (\S+)/.exec(r.stdout);
  assert.ok(cmd);
  const rep = spawnSync(process.execPath, ['src/cli/main.ts', 'crash', 'examples/crash/log-append.ts', '--program', cmd[1]!, '--replay', cmd[2]!], { encoding: 'utf8' });
  assert.equal(rep.status, 1);
  assert.match(rep.stdout, /BROKEN check: valid flag set/);
  const bad = spawnSync(process.execPath, ['src/cli/main.ts', 'crash', 'examples/crash/log-append.ts', '--program', 'log-append-fenced', '--replay', '1:9,9,9,9'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /replay: crash point 1 has \d+ non-durable lines/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/);
});

test('a YAML scenario can be explored too: msync keeps data on linux-4.15, not on the 2014 base (built-in '
  + 'invariant)', () => {
  // 16 unflushed one-store lines give 2^16 images at the last points: sampled, so --allow-partial for exit 0.
  const ok = spawnSync(process.execPath, ['src/cli/main.ts', 'crash', 'examples/crash/msync-linux-4.15.yaml', '--json',
    '--allow-partial'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const res = JSON.parse(ok.stdout) as Array<{ failures: unknown[]; states: number; profile: string }>;
  assert.equal(res[0]!.profile, 'linux-4.15');
  assert.deepEqual(res[0]!.failures, []);
  assert.ok(res[0]!.states > 100);
  const bad = spawnSync(process.execPath, ['src/cli/main.ts', 'crash', 'examples/crash/msync-dax-2014.yaml'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /fsync\/msync durability: \/mnt\/data page 0 was synced but its data was still in the CPU cache/);
});
