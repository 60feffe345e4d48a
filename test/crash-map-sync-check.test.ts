/**
 * Issue 15 (speed): the explorer's MAP_SYNC invariant is checked around a fault's address only
 * when nothing but that fault and PM instructions ran since the last check (src/crash/explore.ts
 * mapSyncCached). The invariant is the guarantee dax_iomap_pte_fault gives with IOMAP_F_DIRTY
 * (fs/dax.c v6.1: the block mapping is committed before the PTE is made writable); crossCheck
 * compares the fault-local check with the walk of every PTE at each point. A kernel that skipped
 * the commit (the profile knob mapSync turned off after the mmap succeeded, so MAP_SYNC is
 * accepted but not honoured) must be caught at the very fault that broke it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explore, type CrashProgram, type CrashContext } from '../src/index.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED_VALIDATE, MAP_SYNC } from '../src/mm/constants.ts';
import mapSync from '../examples/crash/map-sync.ts';

/** Writes to `pages` pages through MAP_SYNC, each flushed; with `broken` the kernel stops honouring MAP_SYNC. */
function writer(pages: number, broken: boolean): CrashProgram {
  return {
    name: broken ? 'broken-map-sync' : 'map-sync', description: 'page writes through MAP_SYNC',
    run(ctx: CrashContext) {
      const p = ctx.machine.process();
      const fd = p.open(`${ctx.dir}/f`, O_RDWR | O_CREAT);
      p.ftruncate(fd, pages * 4096);
      p.fsync(fd);
      const a = p.mmap(0, pages * 4096, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
      assert.ok(a >= 0);
      const k = ctx.machine.k as { profile: object };
      if (broken) k.profile = { ...k.profile, mapSync: false };
      for (let i = 0; i < pages; i++) { p.store(a + i * 4096, 1); p.flush(a + i * 4096, 1, 'clwb'); p.fence('sfence'); }
    },
  };
}

test('MAP_SYNC check: the fault-local check agrees with the full PTE walk at every crash point', () => {
  for (const prog of [writer(600, false), ...mapSync]) {
    const r = explore(prog, { crossCheck: true });
    assert.ok(r.crashPoints > 0, prog.name);
  }
  assert.equal(explore(writer(600, false), { crossCheck: true }).verdict, 'pass');
});

test('MAP_SYNC check: a write fault that makes a PTE writable before committing its block fails at that fault', () => {
  const r = explore(writer(3, true), { crossCheck: true });
  assert.equal(r.verdict, 'fail');
  const f = r.failures[0]!;
  assert.equal(f.invariant, 'MAP_SYNC guarantee');
  assert.equal(f.where, 'fault');
  assert.match(f.message, /^page 0 of \/mnt\/f is writably mapped \(block \d+\) but recovery would find hole block -1/);
});
