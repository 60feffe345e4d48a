/**
 * Processes that fork, exit and are waited for: copy_process's share of fork (kernel/fork.c v6.1,
 * v6.18: dup_fd, mm_init's def_flags, dup_mmap), do_exit's (kernel/exit.c: exit_mm -> exit_mmap,
 * exit_files), and wait4's reaping. The machine builder (src/api/machine.ts) calls these; the kernel
 * context itself loads none of them.
 */
import type { Kernel, Process } from './kernel.ts';
import { dupMmap, exitMmap, type ForkStats } from '../mm/fork.ts';
import { ECHILD } from '../lib/errno.ts';

/** What a process's life adds to the kernel's Process (kept beside it, by process). */
export interface ProcState {
  parent: Process | null;
  exited: boolean;
  reaped: boolean;
  status: number;
}

const states = new WeakMap<Process, ProcState>();

/** The life state of `p` (a fresh, running process with no parent unless fork made it). */
export function procState(p: Process): ProcState {
  let s = states.get(p);
  if (!s) {
    s = { parent: null, exited: false, reaped: false, status: 0 };
    states.set(p, s);
  }
  return s;
}

/**
 * fork(2) as copy_process does it for a single-threaded parent (kernel/fork.c v6.1, v6.18): a new
 * process `name` with one task whose clock starts at the parent's; the descriptor table is
 * duplicated (dup_fd: each open file gains a reference); mm_init keeps only VM_NOHUGEPAGE of
 * def_flags (so mlockall(MCL_FUTURE) is not inherited); dup_mmap copies the address space.
 */
export function copyProcess(k: Kernel, parent: Process, name: string): { child: Process; stats: ForkStats } {
  const child = k.createProcess(name);
  child.tasks[0]!.clockNs = parent.tasks[0]!.clockNs;
  parent.fds.forEach((f, fd) => {
    child.fds[fd] = f;
    if (f) k.vfs.getMapping(f);
  });
  const stats = dupMmap(k, parent.mm, child.mm);
  procState(child).parent = parent;
  return { child, stats };
}

/**
 * do_exit (kernel/exit.c v6.1, v6.18) for a process's only task: exit_mm (exit_mmap unmaps and
 * frees everything), exit_files (each descriptor's file reference dropped), then a zombie until
 * the parent waits. Its rusage stays what it was (getrusage RUSAGE_CHILDREN is not modelled).
 */
export function doExit(k: Kernel, p: Process, status: number): void {
  const st = procState(p);
  exitMmap(k, p.mm);
  p.fds.forEach((f, fd) => {
    if (f) k.vfs.putMapping(f);
    p.fds[fd] = null;
  });
  st.exited = true;
  st.status = status & 0xff;
}

/**
 * wait4 for one child (kernel/exit.c do_wait v6.1): -ECHILD when `child` is not a child of
 * `parent` or was reaped already; else the child is reaped and its exit status returned. The
 * caller guarantees it has exited (steps run in order: a wait for a running child would block).
 */
export function waitChild(parent: Process, child: Process): number {
  const st = procState(child);
  if (st.parent !== parent || st.reaped) return -ECHILD;
  st.reaped = true;
  return st.status;
}
