/**
 * A pool file for the PM examples: one fsynced, fully written file on ext4 -o dax, mapped
 * MAP_SHARED_VALIDATE | MAP_SYNC (as libpmem's pmem_map_file does on a DAX file), so user-space
 * flushes are enough for durability (seed 003).
 */
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED_VALIDATE, MAP_SYNC } from 'daxsim';
import type { CrashContext, PmOps } from 'daxsim';

export const POOL = '/mnt/pool';

/** Create the pool with contents `init` (durable: written by pwrite, committed by fsync) and map it. */
export function openPool(ctx: CrashContext, init: Uint8Array): { pm: PmOps; a: number } {
  const p = ctx.machine.process();
  const bytes = init.length;
  const fd = p.open(POOL, O_RDWR | O_CREAT);
  p.pwrite(fd, bytes, 0, init);
  p.fsync(fd);
  const a = p.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
  if (a < 0) throw new Error(`mmap of the pool failed: ${a}`);
  return { pm: ctx.pm(p), a };
}

/** Little-endian u64 of the recovered pool at `off` (as a number: the examples keep values below 2^53). */
export function u64(view: import('daxsim').CrashView, off: number): number {
  let v = 0;
  for (let i = 7; i >= 0; i--) v = v * 256 + Math.max(0, view.byte(POOL, off + i));
  return v;
}

export function le64(v: number): Uint8Array {
  const b = new Uint8Array(8);
  for (let i = 0; i < 8; i++) { b[i] = v % 256; v = Math.floor(v / 256); }
  return b;
}
