/**
 * A port of test/oracle/lfprobe.c (which measured test/oracle/linux-6.18-host-large-folios.jsonl on
 * a Linux 6.18 host, ext4 on a virtio disk) onto the daxsim API: the same files written with the
 * same pwrite sizes and fsynced, mapped at a 2 MiB-aligned address (plus the same skew) inside a
 * PROT_NONE reservation, one byte touched per 4 KiB page, faults counted as minflt + majflt.
 */
import type { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS,
  MAP_NORESERVE, MAP_FIXED } from '../src/mm/constants.ts';

export interface LfRow {
  scenario: string; write_bytes: number; file_bytes: number; va_skew: number; op: 'read' | 'write'; map: 'shared' | 'private'; faults: number;
}

export function runLfprobe(m: Machine, dir: string): LfRow[] {
  const p = m.process('lfprobe');
  const fn = `${dir}/lfprobe.dat`;
  const rows: LfRow[] = [];
  const check = (what: string, r: number) => { if (r < 0) throw new Error(`lfprobe: ${what} failed with ${r}`); return r; };
  const mkfile = (wsz: number, len: number) => {
    const fd = check('open', p.open(fn, O_RDWR | O_CREAT | O_TRUNC));
    for (let o = 0; o < len; o += wsz) check('pwrite', p.pwrite(fd, Math.min(wsz, len - o), o, 0x5a));
    p.fsync(fd);
    p.close(fd);
  };
  const run = (scenario: string, wsz: number, len: number, skew: number, wr: boolean, priv: boolean) => {
    const fd = check('open', p.open(fn, O_RDWR));
    const r = check('reserve', p.mmap(0, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
    const a = Math.ceil(r / (2 << 20)) * (2 << 20) + skew;
    check('mmap', p.mmap(a, len, PROT_READ | (wr ? PROT_WRITE : 0), (priv ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, 0));
    const r0 = p.rusage();
    for (let o = 0; o < len; o += 4096) check('access', wr ? p.store(a + o, 1) : p.load(a + o));
    const r1 = p.rusage();
    rows.push({ scenario, write_bytes: wsz, file_bytes: len, va_skew: skew, op: wr ? 'write' : 'read', map: priv ? 'private' : 'shared',
      faults: r1.minflt - r0.minflt + r1.majflt - r0.majflt });
    p.munmap(a, len);
    p.munmap(r, len + (8 << 20));
    p.close(fd);
  };
  const M = 1 << 20, L = 128 << 20;
  for (const w of [4096, 16384, 65536, 262144, M, 2 * M]) {
    mkfile(w, L);
    run('seq-read', w, L, 0, false, false);
    run('seq-write', w, L, 0, true, false);
  }
  mkfile(M, L);
  run('seq-read-skew4k', M, L, 4096, false, false);
  run('seq-write-skew4k', M, L, 4096, true, false);
  run('private-read', M, L, 0, false, true);
  run('private-write', M, L, 0, true, true);
  mkfile(M, 16 * M);
  run('small-read', M, 16 * M, 0, false, false);
  run('small-write', M, 16 * M, 0, true, false);
  mkfile(M, 16 * M - 4096);
  run('short-tail-read', M, 16 * M - 4096, 0, false, false);
  run('short-tail-write', M, 16 * M - 4096, 0, true, false);
  mkfile(2 * M, 15 * M);
  run('odd-2m-read', 2 * M, 15 * M, 0, false, false);
  run('odd-2m-write', 2 * M, 15 * M, 0, true, false);
  return rows;
}
