/**
 * iozone's mmap mode (-B), pass by pass, as read from iozone 3.4xx (write_perf_test,
 * read_perf_test, initfile, mmap_end; our own code): the workload behind Kani's figures (seed 000)
 * and behind test/oracle/rereadprobe.c, which timed it on a real Linux 6.18 kernel.
 *
 * Write test, two passes (write, re-write): open (the first pass creates the file empty), size it
 * by writing only its last record with write(2) (the rest stays sparse), map it MAP_SHARED
 * PROT_READ|PROT_WRITE, fsync, then the timed loop stores every record into the mapping; msync
 * (MS_SYNC), munmap and close follow, untimed.
 *
 * Read test, two passes (read, re-read): open read-only, map MAP_PRIVATE PROT_READ, fsync, read(2)
 * the first record and seek back, then the timed loop copies every record out of the mapping
 * into one buffer; msync (MS_SYNC), munmap and close follow, untimed. The two passes do the same
 * work: iozone's only j==0/j==1 difference is the name of its -Q latency file.
 */
import type { Process } from '../api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, O_RDONLY, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_FIXED,
  MS_SYNC } from '../mm/constants.ts';

export type IozonePassName = 'write' | 'rewrite' | 'read' | 'reread';

export interface IozonePass {
  pass: IozonePassName;
  /** Simulated time of the timed loop. */
  ns: number;
  /** Page faults (minflt + majflt) taken inside the timed loop. */
  faults: number;
}

export interface IozoneOptions {
  /** iozone -r: record size (default 4 KiB). */
  recordBytes?: number;
  /** Map at this address (MAP_FIXED), or 0 to let the kernel choose, as iozone does. */
  addr?: number;
}

function must(what: string, r: number): number {
  if (r < 0) throw new Error(`iozone: ${what} failed with ${r}`);
  return r;
}

function timed(p: Process, pass: IozonePassName, body: () => void): IozonePass {
  const r0 = p.rusage(), t0 = p.clockNs;
  body();
  const r1 = p.rusage();
  return { pass, ns: p.clockNs - t0, faults: r1.minflt - r0.minflt + r1.majflt - r0.majflt };
}

/** iozone -i 0 with -B: the write and re-write passes over `bytes` of `path`. */
export function iozoneWriteTest(p: Process, path: string, bytes: number, opt: IozoneOptions = {}): IozonePass[] {
  const rec = opt.recordBytes ?? 4096, addr = opt.addr ?? 0;
  const out: IozonePass[] = [];
  for (let j = 0; j < 2; j++) {
    const fd = must('open', p.open(path, O_RDWR | O_CREAT | (j === 0 ? O_TRUNC : 0)));
    must('write', p.pwrite(fd, rec, bytes - rec, 0));
    const a = must('mmap', p.mmap(addr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | (addr ? MAP_FIXED : 0), fd, 0));
    p.fsync(fd);
    out.push(timed(p, j === 0 ? 'write' : 'rewrite', () => {
      // bcopy of the record buffer into the mapping: every cache line is stored.
      for (let o = 0; o < bytes; o += rec) must('store', p.access(a + o, rec, 64, true, false, 0xa5));
    }));
    p.msync(a, bytes, MS_SYNC);
    p.munmap(a, bytes);
    p.close(fd);
  }
  return out;
}

/** iozone -i 1 with -B: the read and re-read passes over `bytes` of `path`. */
export function iozoneReadTest(p: Process, path: string, bytes: number, opt: IozoneOptions = {}): IozonePass[] {
  const rec = opt.recordBytes ?? 4096, addr = opt.addr ?? 0;
  const out: IozonePass[] = [];
  for (let j = 0; j < 2; j++) {
    const fd = must('open', p.open(path, O_RDONLY));
    const a = must('mmap', p.mmap(addr, bytes, PROT_READ, MAP_PRIVATE | (addr ? MAP_FIXED : 0), fd, 0));
    p.fsync(fd);
    must('read', p.read(fd, rec));
    out.push(timed(p, j === 0 ? 'read' : 'reread', () => {
      for (let o = 0; o < bytes; o += rec) must('copy', p.memcpyFrom(a + o, rec));
    }));
    p.msync(a, bytes, MS_SYNC);
    p.munmap(a, bytes);
    p.close(fd);
  }
  return out;
}
