/**
 * Crash example 3: writes through a mapping of an empty file with no flushes, then
 * msync(MS_SYNC). Data covered by a completed msync survives every crash after it (the explorer's
 * built-in fsync/msync invariant, plus an explicit expectation), on every profile whose DAX
 * writes back dirty entries: linux-4.13, linux-4.15, linux-6.1, linux-6.18 and Wilcox's RFC. The
 * 2014 base DAX had no dirty tracking (msync-2014-base): the explorer shows the loss that
 * motivated seed 002.
 * Run: npm run daxsim -- crash examples/crash/msync.ts
 */
import type { CrashProgram, CrashContext } from '../../src/crash/explore.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MS_SYNC } from '../../src/mm/constants.ts';

function writer(ctx: CrashContext): void {
  const p = ctx.machine.process();
  const path = `${ctx.dir}/data`;
  const fd = p.open(path, O_RDWR | O_CREAT);
  p.ftruncate(fd, 2 * 4096);
  const a = p.mmap(0, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  for (let i = 0; i < 200; i++) p.store(a + i * 40, 7);
  p.msync(a, 2 * 4096, MS_SYNC);
  ctx.expectDurable(path, 0, 7, 1);
  ctx.expectDurable(path, 199 * 40, 7, 1);
}

const programs: CrashProgram[] = ['linux-4.13', 'linux-4.15', 'linux-6.1', 'linux-6.18', 'rfc-wilcox-2014', 'dax-2014'].map((profile) => ({
  name: profile === 'dax-2014' ? 'msync-2014-base' : `msync-${profile}`,
  description: `mapped writes then msync(MS_SYNC) on ${profile}`,
  profile,
  run: writer,
}));
export default programs;
