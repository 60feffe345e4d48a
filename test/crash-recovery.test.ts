/**
 * Issue 15, "faults inside recovery are simulated too": a power failure while the program's
 * recovery code runs (src/crash/recovery.ts). A recovery write is a write(2) to a file on ext4
 * -o dax, durable when it returns (the model's rule for kernel writes, README "Known limits"), so
 * such a crash keeps the first k of recovery's W writes; the next boot runs recovery again. PMDK
 * writes its log recovery to be restartable for this reason (a log stays valid until its last
 * step clears it: libpmemobj's redo log, src/libpmemobj/ulog.c, ulog_recover / ulog_clobber).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { explore, replay, type CrashProgram, type CrashView } from '../src/index.ts';
import { mergeShards } from '../src/crash/shard.ts';
import { openPool, le64, u64, POOL } from '../examples/crash/pool.ts';
import redoLog from '../examples/crash/redo-log.ts';

const FILE = 'examples/crash/redo-log.ts';
const prog = (name: string) => redoLog.find((p) => p.name === name)!;
const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', 'crash', FILE, ...args],
  { encoding: 'utf8' });

test('a recovery that clears the commit word before replaying is found only by a crash during recovery', () => {
  const bug = prog('redo-log-recovery-clears-first');
  assert.equal(explore(bug, { recoveryCrashes: false }).verdict, 'pass');
  const r = explore(bug);
  assert.equal(r.verdict, 'fail');
  const f = r.failures[0]!;
  assert.equal(f.invariant, 'recovery crash');
  // Recovery's first write clears the commit word; a crash after the second (one slot replayed) breaks the check.
  const lines = readFileSync(FILE, 'utf8').split('\n');
  const slotWrite = lines.findIndex((l) => l.includes('view.write(POOL, off,')) + 1;
  assert.match(f.message, new RegExp(`^power failure after recovery write 2 of 3 at ${FILE}:${slotWrite} ` +
    '\\(/mnt/pool \\[1024, 1032\\)\\), then recovery again: check: slots hold 1100, 22'));
  assert.ok(f.read.some((x) => x.offset === 0 && x.bytes.every((b) => b === 0)), 'the commit word read as cleared');
});

test('the redo log\'s own recovery is restartable: every image of a crash during recovery passes', () => {
  const r = explore(prog('redo-log'));
  assert.equal(r.verdict, 'pass');
  // States with a set commit word run 3 recovery writes, each a crash image of its own.
  assert.ok(r.recoveryStates >= 3, `${r.recoveryStates} recovery-crash images`);
  assert.equal(explore(prog('redo-log'), { recoveryCrashes: false }).recoveryStates, 0);
});

test('a crash after recovery finished is checked too: a recovery that is not idempotent fails when run twice', () => {
  // The program leaves slot 64 at 1; recovery adds 1 (not idempotent); check wants 2.
  const p: CrashProgram = {
    name: 'increment', description: 'recovery increments',
    run(ctx) { const { pm, a } = openPool(ctx, new Uint8Array(4096)); pm.store64(a + 64, 1); pm.pmem_persist(a + 64, 8); },
    recover(view: CrashView) {
      if (view.sizeBytes(POOL) < 4096 || u64(view, 64) === 0) return;
      view.write(POOL, 64, le64(u64(view, 64) + 1));
    },
    check: (view) => (view.sizeBytes(POOL) < 4096 || [0, 2].includes(u64(view, 64)) ? null : `slot is ${u64(view, 64)}`),
  };
  assert.equal(explore(p, { recoveryCrashes: false }).verdict, 'pass');
  const f = explore(p).failures[0]!;
  assert.equal(f.invariant, 'recovery crash');
  assert.match(f.message, /after recovery write 1 of 1 .*then recovery again: check: slot is 3$/);
});

test('shards: the merged recovery-crash count equals the single run\'s (1 to 3 shards)', () => {
  for (const name of ['redo-log', 'redo-log-recovery-clears-first']) {
    const one = explore(prog(name));
    for (let n = 1; n <= 3; n++) {
      const parts = Array.from({ length: n }, (_, index) => explore(prog(name), { shard: { index, count: n } }));
      const m = mergeShards(parts, true);
      assert.equal(m.recoveryStates, one.recoveryStates, `${name}, ${n} shards`);
      assert.equal(m.verdict, one.verdict);
    }
  }
});

test('CLI: --no-recovery-crashes turns it off; replay of the failing state shows the crash during recovery', () => {
  const r = cli('--program', 'redo-log-recovery-clears-first');
  assert.equal(r.status, 1);
  assert.match(r.stdout, /; \d+ more after a power failure during recovery\n/);
  assert.match(r.stdout, /BROKEN at crash point \d+ .*: recovery crash: power failure after recovery write 2 of 3/);
  assert.equal(cli('--program', 'redo-log-recovery-clears-first', '--no-recovery-crashes').status, 0);
  const spec = /--replay (\S+)/.exec(r.stdout)![1]!;
  const [pt, ks] = spec.split(':');
  const rep = replay(prog('redo-log-recovery-clears-first'), Number(pt), ks!.split(',').map(Number));
  assert.equal(rep.violation?.[0], 'recovery crash');
  const off = replay(prog('redo-log-recovery-clears-first'), Number(pt), ks!.split(',').map(Number),
    { recoveryCrashes: false });
  assert.equal(off.violation, null);
});
