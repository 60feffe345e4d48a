/**
 * Sleeping reader/writer locks of the scheduler's concurrent runs: struct rw_semaphore
 * (kernel/locking/rwsem.c, v6.1/v6.18: down_read, down_write, up_read, up_write) as the model
 * needs it for mmap_lock, i_rwsem and invalidate_lock. A step runs to completion inside one
 * scheduler unit, so a lock is not held "now" but over an interval of simulated time: each lock
 * keeps the time its last writer released it and the latest time a reader released it. A task
 * that wants it at a time before that sleeps until then (a reader waits for writers only, a
 * writer for both), charged to lockWait. The scheduler runs the task with the earliest clock,
 * so a later acquirer never starts before an earlier one; ties go to the worker listed first
 * (the foreground step, then background work in the order it started: kernel/sched.ts). Single-
 * task runs (Kernel.concurrent false) neither wait nor record: nobody else could hold the lock.
 * Not modelled: writer preference (a reader arriving while a writer waits goes first here) and
 * optimistic spinning (a waiter's time is all sleep).
 */
import { COST } from './cost-category.ts';
import type { Kernel, Task } from '../kernel/kernel.ts';

export class SimRwsem {
  /** Simulated time the last writer released the lock. */
  writerFreeNs = 0;
  /** Latest simulated time a reader released it. */
  readersFreeNs = 0;
}

/** down_read (kernel/locking/rwsem.c v6.18): sleep while a writer's hold covers the task's time. */
export function downRead(k: Kernel, task: Task, sem: SimRwsem): void {
  if (k.concurrent && sem.writerFreeNs > task.clockNs) k.waitUntil(task, sem.writerFreeNs, COST.lockWait);
}

/** up_read (v6.18): the read hold ends at the task's time. */
export function upRead(k: Kernel, task: Task, sem: SimRwsem): void {
  if (k.concurrent && task.clockNs > sem.readersFreeNs) sem.readersFreeNs = task.clockNs;
}

/** down_write (v6.18): sleep while any hold, reader's or writer's, covers the task's time. */
export function downWrite(k: Kernel, task: Task, sem: SimRwsem): void {
  if (!k.concurrent) return;
  const free = Math.max(sem.writerFreeNs, sem.readersFreeNs);
  if (free > task.clockNs) k.waitUntil(task, free, COST.lockWait);
}

/** up_write (v6.18): the write hold ends at the task's time. */
export function upWrite(k: Kernel, task: Task, sem: SimRwsem): void {
  if (k.concurrent && task.clockNs > sem.writerFreeNs) sem.writerFreeNs = task.clockNs;
}
