// Step handlers that steer the scenario rather than call the kernel: time, threads, joins,
// and reports.

import { runConcurrently } from '../../kernel/sched.ts';
import type { SignalRecord, StepHandlers } from './context.ts';
import { COST } from '../../lib/cost-category.ts';

type ControlStep = 'sleep' | 'report' | 'spawn' | 'stop' | 'wait';

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
    if (t !== undefined && joined.length === 0) r.fail(step, `thread "${t}" has no background access to wait for`);
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
