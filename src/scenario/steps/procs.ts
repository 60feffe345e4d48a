// Step handlers for processes and the lifetime of mappings: fork, exit and waitpid (one process
// runs at a time, in step order), mremap, and the mlock family. A forked child inherits its
// parent's maps and descriptors under the same names (the runner keeps them as CHILD/NAME), so
// the child's steps say `map: f` with `process: child`.

import type { StepHandlers, StepRunner } from './context.ts';
import type { Step } from '../types.ts';
import { flagsToNumber } from '../flags.ts';

type ProcStep = 'fork' | 'exit' | 'waitpid' | 'mremap' | 'mlock' | 'munlock' | 'mlockall' | 'munlockall';

/** The key under which a child's copy of a parent's map or fd is kept. */
export function childKey(child: string, name: string): string {
  return `${child}/${name}`;
}

/** The process `name` must still run: steps of an exited process are a scenario error. */
function mustRun(r: StepRunner, step: Step, pn: string): void {
  if (r.process(pn).exited) r.fail(step, `process "${pn}" has exited; it cannot run ${step.op}`);
}

export const PROC_STEPS: Pick<StepHandlers, ProcStep> = {
  /** fork(2): the child gets copies of the parent's maps and fds under the same names. Result 0. */
  fork(r, step, p, pn) {
    mustRun(r, step, pn);
    const name = step.args.child;
    if (r.processExists(name)) r.fail(step, `process "${name}" exists already`);
    if (p.kp.tasks.length > 1) r.fail(step, `process "${pn}" has threads; fork of a threaded process is not modelled`);
    r.adoptProcess(name, r.machine.fork(p, name));
    for (const [key, m] of [...r.maps]) {
      if (m.processName !== pn || m.unmapped) continue;
      const base = key.startsWith(`${pn}/`) ? key.slice(pn.length + 1) : key;
      r.maps.set(childKey(name, base), { ...m, processName: name });
    }
    for (const [key, f] of [...r.fds]) {
      if (f.processName !== pn) continue;
      const base = key.startsWith(`${pn}/`) ? key.slice(pn.length + 1) : key;
      r.fds.set(childKey(name, base), { ...f, processName: name });
    }
    return { result: 0 };
  },
  /** _exit(status): everything unmapped and closed. */
  exit(r, step, p, pn) {
    mustRun(r, step, pn);
    for (const m of r.maps.values()) if (m.processName === pn) m.unmapped = true;
    return { result: p.exit(step.args.status) };
  },
  /** waitpid(child): its exit status, or ECHILD. */
  waitpid(r, step, p, pn) {
    mustRun(r, step, pn);
    const name = step.args.child;
    if (!r.processExists(name)) r.fail(step, `no process "${name}"`);
    const c = r.process(name);
    if (!c.exited && c.kp !== p.kp) {
      r.fail(step, `process "${name}" has not exited: a waitpid for it here would never return (steps run in order)`);
    }
    return { result: p.waitpid(c) };
  },
  /** mremap(2); on success the map name follows the new range. */
  mremap(r, step, p, pn) {
    mustRun(r, step, pn);
    const a = step.args;
    const m = r.map(step, a.map, pn);
    const addr = m.addr + a.offsetBytes;
    const oldLen = a.oldLengthBytes ?? Math.max(0, m.lengthBytes - a.offsetBytes);
    const res = p.mremap(addr, oldLen, a.newLengthBytes, flagsToNumber(a.flags), a.newAddrBytes ?? 0);
    if (res >= 0 && a.offsetBytes === 0 && oldLen >= m.lengthBytes) {
      m.addr = res;
      m.lengthBytes = a.newLengthBytes;
    } else if (res >= 0 && a.offsetBytes + a.newLengthBytes <= m.lengthBytes && res === addr) {
      m.lengthBytes = a.offsetBytes + a.newLengthBytes; // a shrink of the tail
    }
    return { result: res };
  },
  /** mlock(2), or mlock2(2) with flags. */
  mlock(r, step, p, pn) {
    mustRun(r, step, pn);
    const [addr, len] = r.range(step, step.args, pn);
    return { result: p.mlock(addr, len, flagsToNumber(step.args.flags)) };
  },
  /** munlock(2). */
  munlock(r, step, p, pn) {
    mustRun(r, step, pn);
    const [addr, len] = r.range(step, step.args, pn);
    return { result: p.munlock(addr, len) };
  },
  /** mlockall(2). */
  mlockall(r, step, p, pn) {
    mustRun(r, step, pn);
    return { result: p.mlockall(flagsToNumber(step.args.flags)) };
  },
  /** munlockall(2). */
  munlockall(r, step, p, pn) {
    mustRun(r, step, pn);
    return { result: p.munlockall() };
  },
};
