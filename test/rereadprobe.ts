/**
 * A port of test/oracle/rereadprobe.c (iozone -B's write/re-write and read/re-read passes, which
 * measured test/oracle/linux-6.18-host-reread.jsonl on a Linux 6.18 host) onto the daxsim API: the
 * passes are src/reproduce/iozone.ts (the same sequence the Kani experiment runs), mapped, as the
 * probe maps them, at a 2 MiB-aligned address plus the same skew inside a PROT_NONE reservation.
 */
import type { Machine } from '../src/api/machine.ts';
import { PROT_NONE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE } from '../src/mm/constants.ts';
import { iozoneWriteTest, iozoneReadTest, type IozonePassName } from '../src/reproduce/iozone.ts';

export type RereadPass = IozonePassName;
export interface RereadRow { fs: string; rep: number; file_kb: number; va_skew: number; pass: RereadPass; ns: number; faults: number }

export function runRereadprobe(m: Machine, dir: string, fs: string, fileKb: number, reps: number, skew: number): RereadRow[] {
  const p = m.process('rereadprobe');
  const bytes = fileKb * 1024;
  const reserve = p.mmap(0, bytes + (4 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserve < 0) throw new Error(`rereadprobe: reserve failed with ${reserve}`);
  const addr = Math.ceil(reserve / (2 << 20)) * (2 << 20) + skew;
  const rows: RereadRow[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const passes = [...iozoneWriteTest(p, `${dir}/rereadprobe.dat`, bytes, { addr }), ...iozoneReadTest(p, `${dir}/rereadprobe.dat`, bytes, { addr })];
    for (const r of passes) rows.push({ fs, rep, file_kb: fileKb, va_skew: skew, ...r });
  }
  return rows;
}
