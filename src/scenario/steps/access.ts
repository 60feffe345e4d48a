// Step handlers for the CPU's own accesses to mappings: loads and stores (which take the page
// faults: do_user_addr_fault on a missing or read-only entry), cache-line flushes and fences.
// `access` is the hot loop of most scenarios: one closure call per page, no allocation per page.

import type { Process } from '../../api/machine.ts';
import type { AccessArgs, StepOf } from '../types.ts';
import { DEFAULT_STORE_BYTE, PAGE_BYTES, signalAt } from './context.ts';
import type { BackgroundWork, MapRecord, StepHandlers, StepOutcome, StepRunner } from './context.ts';

type AccessStep = 'access' | 'load' | 'store' | 'flush' | 'fence';

/** How many pages an access touches and the address of the j-th, in the step's order. */
function accessPlan(a: AccessArgs, m: MapRecord): { n: number; addrOf: (j: number) => number } {
  const descending = a.order === 'descending';
  if (a.span.kind === 'pages') {
    const pages = a.span.pages;
    return { n: pages.length, addrOf: (j) => m.addr + pages[descending ? pages.length - 1 - j : j]! * PAGE_BYTES };
  }
  const span = a.span;
  const lengthBytes = span.lengthBytes ?? Math.max(0, m.lengthBytes - span.offsetBytes);
  const n = Math.ceil(lengthBytes / span.strideBytes);
  return { n, addrOf: (j) => m.addr + span.offsetBytes + (descending ? n - 1 - j : j) * span.strideBytes };
}

/** An access with background: true: a worker on the step's own thread, one page per scheduler step. */
function startBackgroundAccess(
  r: StepRunner, step: StepOf<'access'>, p: Process, m: MapRecord, n: number,
  addrOf: (j: number) => number, touch: (addr: number) => number,
): StepOutcome {
  const thread = step.thread;
  if (thread === undefined) r.fail(step, 'a background access needs its own thread: give the step a thread name');
  if (r.background.some((w) => w.thread === thread && !w.done)) {
    r.fail(step, `thread "${thread}" is already running background work`);
  }
  let j = 0;
  const w: BackgroundWork = {
    task: p.task, thread, finite: true, done: n === 0,
    step: () => {
      if (j >= n) { w.done = true; return false; }
      const addr = addrOf(j++);
      const res = touch(addr);
      if (res < 0) { w.signal = signalAt(res, addr, m); w.done = true; return false; }
      if (j >= n) w.done = true;
      return j < n;
    },
  };
  r.startBackground(p, w);
  return { result: 0 };
}

export const ACCESS_STEPS: Pick<StepHandlers, AccessStep> = {
  /**
   * Loads or stores (one per page or stride) through the mapping, as a program's memory accesses;
   * each that misses takes a page fault (do_user_addr_fault). The result is the number of pages,
   * or -signo for the access that took a signal.
   */
  access(r, step, p, pn) {
    const a = step.args;
    const m = r.map(step, a.map, pn);
    const write = a.op === 'write';
    const value = a.byte ?? DEFAULT_STORE_BYTE;
    const touch = (addr: number): number => (write ? p.store(addr, value) : p.load(addr));
    const { n, addrOf } = accessPlan(a, m);
    if (a.background) return startBackgroundAccess(r, step, p, m, n, addrOf, touch);
    let j = 0;
    let out: StepOutcome = { result: n };
    r.runWithBackground(p, () => {
      if (j >= n) return false;
      const addr = addrOf(j++);
      const res = touch(addr);
      if (res < 0) { out = { result: res, signal: signalAt(res, addr, m) }; return false; }
      return j < n;
    });
    return out;
  },
  /** One byte load (a mov from the mapping); the result is the byte or -signo. */
  load(r, step, p, pn) {
    const m = r.map(step, step.args.map, pn);
    const addr = m.addr + step.args.offsetBytes;
    const res = p.load(addr);
    return res < 0 ? { result: res, signal: signalAt(res, addr, m) } : { result: res };
  },
  /** One byte store (a mov to the mapping); the result is 0 or -signo. */
  store(r, step, p, pn) {
    const m = r.map(step, step.args.map, pn);
    const addr = m.addr + step.args.offsetBytes;
    const res = p.store(addr, step.args.byte);
    return res < 0 ? { result: res, signal: signalAt(res, addr, m) } : { result: res };
  },
  /** CLWB, CLFLUSHOPT or CLFLUSH over a range of the mapping (no syscall: user-space cache flushing). */
  flush(r, step, p, pn) {
    const m = r.map(step, step.args.map, pn);
    const addr = m.addr + step.args.offsetBytes;
    const res = p.flush(addr, step.args.lengthBytes, step.args.insn);
    return res < 0 ? { result: res, signal: signalAt(res, p.lastSignal?.addr ?? addr, m) } : { result: res };
  },
  /** SFENCE or MFENCE (no syscall): orders the flushes before it. */
  fence(_r, step, p) {
    return { result: p.fence(step.args.insn) };
  },
};
