/**
 * Crash example 2: writes through a mapping of an empty file, flushed from user space (CLWB +
 * SFENCE after each page) with no msync. The program expects each flushed page to survive.
 * - flush-without-map-sync: the block a write fault allocated is in the running transaction
 *   only; a crash before the next commit loses it (the explorer finds the state).
 * - flush-with-map-sync: MAP_SHARED_VALIDATE | MAP_SYNC: each allocating fault commits the
 *   allocation before the PTE is writable (seed 003), so no crash state loses a page.
 * Run: npm run daxsim -- crash examples/crash/map-sync.ts
 */
import type { CrashProgram, CrashContext } from '../../src/crash/explore.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC } from '../../src/mm/constants.ts';

const PAGES = 4;

function writer(sync: boolean, profile: string) {
  return (ctx: CrashContext): void => {
    const p = ctx.machine.process();
    const path = `${ctx.dir}/data`;
    const fd = p.open(path, O_RDWR | O_CREAT);
    p.ftruncate(fd, PAGES * 4096);
    p.fsync(fd); // the empty file and its size are committed; no block is allocated
    const a = p.mmap(0, PAGES * 4096, PROT_READ | PROT_WRITE, sync ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED, fd, 0);
    if (a < 0) throw new Error(`${profile}: mmap failed with ${a}`);
    for (let page = 0; page < PAGES; page++) {
      for (let i = 0; i < 64; i++) p.store(a + page * 4096 + i, page + 1);
      p.flush(a + page * 4096, 64, 'clwb');
      p.fence('sfence');
      ctx.expectDurable(path, page * 4096, page + 1, 64);
    }
  };
}

const programs: CrashProgram[] = [
  { name: 'flush-without-map-sync', description: 'user-space flushes, MAP_SHARED', profile: 'linux-6.1', run: writer(false, 'linux-6.1') },
  { name: 'flush-with-map-sync', description: 'user-space flushes, MAP_SHARED_VALIDATE | MAP_SYNC', profile: 'linux-6.1', run: writer(true, 'linux-6.1') },
];
export default programs;
