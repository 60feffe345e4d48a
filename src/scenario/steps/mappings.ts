// Step handlers for mappings: the syscalls that create, change and remove VMAs.

import { flagValue, flagsToNumber } from '../flags.ts';
import type { StepHandlers } from './context.ts';

type MappingStep = 'mmap' | 'munmap' | 'mprotect' | 'madvise' | 'msync';

export const MAPPING_STEPS: Pick<StepHandlers, MappingStep> = {
  /** mmap(2); the mapping is known by the step's `map` name from now on. */
  mmap(r, step, p, pn) {
    const a = step.args;
    const fd = a.fd === undefined ? -1 : r.fd(step, a.fd, pn);
    const prot = flagsToNumber(a.prot);
    const addr = p.mmap(a.addrBytes ?? 0, a.lengthBytes, prot, flagsToNumber(a.flags), fd, a.offsetBytes, a.map);
    if (addr >= 0) r.maps.set(a.map, { processName: pn, addr, lengthBytes: a.lengthBytes });
    return { result: addr };
  },
  /** munmap(2) of a range of the mapping (default: all of it). */
  munmap(r, step, p, pn) {
    const [addr, len] = r.range(step, step.args, pn);
    const res = p.munmap(addr, len);
    // A whole map unmapped leaves the reports (its address may be reused by a later map).
    const m = r.map(step, step.args.map, pn);
    if (res === 0 && addr <= m.addr && addr + len >= m.addr + m.lengthBytes) m.unmapped = true;
    return { result: res };
  },
  /** mprotect(2) of a range of the mapping. */
  mprotect(r, step, p, pn) {
    const [addr, len] = r.range(step, step.args, pn);
    return { result: p.mprotect(addr, len, flagsToNumber(step.args.prot)) };
  },
  /** madvise(2) of a range of the mapping. */
  madvise(r, step, p, pn) {
    const [addr, len] = r.range(step, step.args, pn);
    return { result: p.madvise(addr, len, flagValue(step.args.advice)) };
  },
  /** msync(2) of a range of the mapping. */
  msync(r, step, p, pn) {
    const [addr, len] = r.range(step, step.args, pn);
    return { result: p.msync(addr, len, flagsToNumber(step.args.flags)) };
  },
};
