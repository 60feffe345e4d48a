// Step handlers for the CPU's own accesses to mappings: loads and stores (which take the page
// faults: do_user_addr_fault on a missing or read-only entry), cache-line flushes and fences.
// `access` is the hot loop of most scenarios: one closure call per page, no allocation per page.

import type { Process } from '../../api/machine.ts';
import type { AccessArgs, StepOf } from '../types.ts';
import { accessSequence, stepSeed } from '../order.ts';
import { DEFAULT_STORE_BYTE, PAGE_BYTES, signalAt } from './context.ts';
import type { BackgroundWork, MapRecord, StepHandlers, StepOutcome, StepRunner } from './context.ts';

type AccessStep = 'access' | 'flush' | 'fence';

/** The number of touches of an access step: its page list, or its range divided by the stride. */
export function accessCount(a: AccessArgs, mapLengthBytes: number): number {
  if (a.span.kind === 'pages') return a.span.pages.length;
  const lengthBytes = a.span.lengthBytes ?? Math.max(0, mapLengthBytes - a.span.offsetBytes);
  return Math.ceil(lengthBytes / a.span.strideBytes);
}

/** How many pages an access touches and the address of the j-th, in the step's order (seeded for random ones). */
function accessPlan(a: AccessArgs, m: MapRecord, seed: number): { n: number; addrOf: (j: number) => number } {
  const descending = a.order === 'descending';
  const n = accessCount(a, m.lengthBytes);
  const seq = accessSequence(a, n, seed);
  const pos = (j: number): number => (seq !== null ? seq[j]! : descending ? n - 1 - j : j);
  if (a.span.kind === 'pages') {
    const pages = a.span.pages;
    return { n, addrOf: (j) => m.addr + pages[pos(j)]! * PAGE_BYTES };
  }
  const span = a.span;
  return { n, addrOf: (j) => m.addr + span.offsetBytes + pos(j) * span.strideBytes };
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
    const { n, addrOf } = accessPlan(a, m, stepSeed(r.seed, a.orderIndex));
    if (a.background) return startBackgroundAccess(r, step, p, m, n, addrOf, touch);
    let j = 0;
    let out: StepOutcome = { result: n };
    const prog = r.progress;
    if (prog !== null) prog.size(n, 'pages');
    r.runWithBackground(p, () => {
      if (j >= n) return false;
      const addr = addrOf(j++);
      const res = touch(addr);
      if (prog !== null) prog.tick(j);
      if (res < 0) { out = { result: res, signal: signalAt(res, addr, m) }; return false; }
      return j < n;
    });
    return out;
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
