// Step handlers that steer the scenario rather than call the kernel: time, threads, joins,
// and reports.

import { runConcurrently } from '../../kernel/sched.ts';
import type { Process } from '../../api/machine.ts';
import type { StepOf } from '../types.ts';
import type { BackgroundWork, SignalRecord, StepHandlers, StepOutcome, StepRunner } from './context.ts';
import { COST } from '../../lib/cost-category.ts';

type ControlStep = 'sleep' | 'report' | 'spawn' | 'stop' | 'wait' | 'loop';

/**
 * A cursor over a loop's body: `next()` runs one inner step (one scheduler unit) and says whether
 * more remain; `signal` is the first signal an inner step took (it ends the loop, as it would kill
 * a program that did not handle it), `rounds` the rounds completed.
 */
function loopCursor(r: StepRunner, step: StepOf<'loop'>, p: Process, pn: string) {
  const body = step.args.steps, repeat = step.args.repeat;
  const c = { rounds: 0, signal: undefined as SignalRecord | undefined, next: (): boolean => false };
  let j = 0;
  c.next = () => {
    if (repeat !== undefined && c.rounds >= repeat) return false;
    const before = p.task.clockNs;
    const out = r.runBody(body[j]!, p, pn);
    // Steps the model charges no time (mprotect, some madvise) still enter the kernel: without
    // their entry cost a loop of them would run forever at one instant and starve the others.
    const k = r.machine.k;
    if (p.task.clockNs === before) k.waitUntil(p.task, before + k.costs.syscallNs, COST.syscall);
    if (out.signal !== undefined) { c.signal = out.signal; return false; }
    if (++j === body.length) { j = 0; c.rounds++; }
    return repeat === undefined || c.rounds < repeat;
  };
  return c;
}

/** A loop with background: true: a worker on the loop's thread, one inner step per scheduler unit. */
function startBackgroundLoop(r: StepRunner, step: StepOf<'loop'>, p: Process, pn: string): StepOutcome {
  const thread = step.thread!; // the parser refuses a background loop without one
  if (r.background.some((w) => w.thread === thread && !w.done)) {
    r.fail(step, `thread "${thread}" is already running background work`);
  }
  const c = loopCursor(r, step, p, pn);
  const w: BackgroundWork = {
    task: p.task, thread, finite: step.args.repeat !== undefined, done: step.args.repeat === 0,
    step: () => {
      const more = c.next();
      if (c.signal !== undefined) w.signal = c.signal;
      if (!more) w.done = true;
      return more;
    },
  };
  r.startBackground(p, w);
  return { result: 0 };
}

export const CONTROL_STEPS: Pick<StepHandlers, ControlStep> = {
  /** nanosleep(2): the task's clock moves on by the duration. */
  sleep(r, step, p) {
    r.machine.k.waitUntil(p.task, p.task.clockNs + step.args.durationNs, COST.idle);
    return { result: 0 };
  },
  /** Reads /proc/vmstat, getrusage(2), /proc/meminfo, smaps and stat(2) into the named report. */
  report(r, step) {
    r.report(step.args.name);
    return { result: 0 };
  },
  /** pthread_create(3) (clone(2) with CLONE_VM): the runner made the step's thread before calling this. */
  spawn() {
    // taskFor() created the thread named by the step (and refused an existing name).
    return { result: 0 };
  },
  /**
   * A loop in the program (`for (i = 0; i < repeat; i++) { ... }`), inline or on its own thread
   * (background: true). Inline, each inner step is one scheduler unit beside the background
   * work; the result is the rounds completed, or the signal of an inner step, which ends it.
   */
  loop(r, step, p, pn) {
    if (step.args.background) return startBackgroundLoop(r, step, p, pn);
    const c = loopCursor(r, step, p, pn);
    r.runWithBackground(p, c.next);
    return c.signal !== undefined ? { result: -signoOf(c.signal), signal: c.signal } : { result: c.rounds };
  },
  /** Ends the background work of a thread (default: all), as pthread_cancel(3) would. */
  stop(r, step) {
    const t = step.args.thread;
    for (let i = r.background.length - 1; i >= 0; i--) {
      if (t === undefined || r.background[i]!.thread === t) r.background.splice(i, 1);
    }
    return { result: 0 };
  },
  /**
   * pthread_join(3): run everything until the thread's background accesses (default: all) have
   * ended; the joining (main) thread resumes when the last of them did, with the first signal.
   */
  wait(r, step) {
    const t = step.args.thread;
    const joined = r.background.filter((w) => w.finite && (t === undefined || w.thread === t));
    if (t !== undefined && joined.length === 0) {
      r.fail(step, `thread "${t}" has no finite background work (an access, a loop with repeat) to wait for`);
    }
    const pending = joined.filter((w) => !w.done);
    if (pending.length > 0) runConcurrently(r.machine.k, r.live(), pending, r.cpus);
    const main = r.process('main');
    let signal: SignalRecord | undefined;
    for (const w of joined) {
      r.machine.k.waitUntil(main.task, w.task.clockNs, COST.idle);
      signal ??= w.signal;
      r.background.splice(r.background.indexOf(w), 1);
    }
    return signal ? { result: 0, signal } : { result: 0 };
  },
};

function signoOf(s: SignalRecord): number {
  const n = s.signal;
  return n === 'SIGBUS' ? 7 : n === 'SIGSEGV' ? 11 : n === 'SIGKILL' ? 9 : Number(n.slice(3));
}
