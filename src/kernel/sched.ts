/**
 * The deterministic scheduler for concurrent work (issue 4's execution model): each worker is a
 * task with its own simulated clock and a `step` that performs one unit of work (one access, one
 * syscall chunk) and advances the clock. The scheduler always runs the worker whose clock is
 * earliest (ties: the earlier worker), on the CPU that is free soonest, so with at least as many
 * CPUs as workers every task runs in parallel, and beyond that they time-share. Shared kernel
 * resources (the journal's commit in flight, folio and entry locks held across I/O) are modelled
 * by their own "busy until" times, so contention shows up as latency. What a fault holds only for
 * CPU time inside one step is handled after the fact, while more than one worker runs
 * (Kernel.concurrent): the page-table entries a fault installs are stamped with the time its
 * fault ends, and a task of the same mm reaching one earlier in its own time faults and waits for
 * it (mm/fault.ts waitForInstall); DAX entry locks keep their hold intervals, and a task that
 * wants one at a time inside an interval waits for its end (dax/entry.ts waitEntryUnlocked). No
 * randomness: the same scenario gives the same interleaving every time.
 */
import { assert } from '../lib/assert.ts';
import type { Kernel, Task } from './kernel.ts';
import { installLogClose } from '../mm/pgtable.ts';
import { COST } from '../lib/cost-category.ts';

export interface Worker {
  readonly task: Task;
  /** Do one unit of work on `task`; return false when the worker has finished. */
  step(): boolean;
}

/**
 * Run workers until every worker listed in `until` has finished (the others are background work,
 * stopped then). Returns the number of steps taken. `maxSteps` bounds the run.
 */
export function runConcurrently(
  k: Kernel, workers: readonly Worker[], until: readonly Worker[], cpus: number, maxSteps = 50_000_000,
): number {
  assert(cpus >= 1, 'scheduler: need at least one CPU');
  // With more than one worker, what a step does inside the kernel is seen by the others only from
  // the simulated time it happened (Kernel.concurrent; see mm/pgtable.ts InstallLog, dax/entry.ts).
  const wasConcurrent = k.concurrent;
  if (workers.length > 1) k.concurrent = true;
  try {
    return schedule(k, workers, until, cpus, maxSteps);
  } finally {
    k.concurrent = wasConcurrent;
    if (!wasConcurrent) installLogClose(); // a step that threw may have left a fault's log open
  }
}

function schedule(
  k: Kernel, workers: readonly Worker[], until: readonly Worker[], cpus: number, maxSteps: number,
): number {
  const active = workers.map(() => true);
  const cpuFreeNs = new Array<number>(cpus).fill(0);
  let steps = 0;
  const pending = () => until.some((w) => active[workers.indexOf(w)]);
  while (pending()) {
    assert(steps++ < maxSteps, `scheduler: more than ${maxSteps} steps`);
    let wi = -1;
    for (let i = 0; i < workers.length; i++) {
      if (!active[i]) continue;
      if (wi < 0 || workers[i]!.task.clockNs < workers[wi]!.task.clockNs) wi = i;
    }
    const w = workers[wi]!;
    let cpu = 0;
    for (let c = 1; c < cpus; c++) if (cpuFreeNs[c]! < cpuFreeNs[cpu]!) cpu = c;
    k.waitUntil(w.task, cpuFreeNs[cpu]!, COST.idle);
    k.switchTo(w.task);
    active[wi] = w.step();
    cpuFreeNs[cpu] = w.task.clockNs;
  }
  return steps;
}
