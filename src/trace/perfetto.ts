// `daxsim run --trace perfetto --trace-out FILE`: Chrome trace-event JSON, which Perfetto's UI
// (ui.perfetto.dev) and chrome://tracing open: one track per task (process = the scenario's
// process, thread = its task) with a slice per fault ("fault read minor PTE", its address, the
// entries installed and the cost categories in args) and per step (the syscall or access it
// makes), and counters sampled after every step: Rss, PageTables, Cached (kB), dirty CPU-cache
// lines over pmem, and journal commits. Timestamps are simulated microseconds.

import type { FaultTraceEvent, Kernel, Task } from '../kernel/kernel.ts';
import type { Jbd2Phase, Tracepoints } from '../lib/tracepoints.ts';
import type { StepResult } from '../scenario/run.ts';
import type { FileSystem } from '../fs/fs.ts';
import { COST_NAMES, N_COST } from '../lib/cost-category.ts';
import { faultKind } from './breakdown.ts';

/** One trace event (https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU). */
export interface ChromeEvent {
  name: string;
  ph: 'X' | 'C' | 'M' | 'i';
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't' | 'p' | 'g';
  args?: Record<string, number | string>;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

const us = (ns: number): number => Math.round(ns) / 1000;

export class PerfettoWriter implements Tracepoints {
  private readonly k: Kernel;
  private readonly events: ChromeEvent[] = [];
  private readonly named = new Set<number>();
  private commits = 0;

  constructor(k: Kernel) {
    this.k = k;
  }

  /** Name the task's process and thread the first time they appear (metadata events). */
  private track(t: Task): { pid: number; tid: number } {
    const pid = t.process.pid, tid = t.tid;
    if (!this.named.has(-pid)) {
      this.named.add(-pid);
      this.events.push({ name: 'process_name', ph: 'M', pid, args: { name: t.process.name } });
    }
    if (!this.named.has(tid)) {
      this.named.add(tid);
      this.events.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name: t.name } });
    }
    return { pid, tid };
  }

  private taskOf(tid: number): Task {
    return this.k.tasks.find((t) => t.tid === tid) ?? this.k.current;
  }

  faultDone(e: FaultTraceEvent): void {
    const args: Record<string, number | string> = {
      address: `0x${e.addr.toString(16)}`, entries: e.entries, pmdLeaves: e.pmdLeaves,
    };
    for (let i = 0; i < N_COST; i++) if (e.costNs[i]! !== 0) args[`${COST_NAMES[i]}Ns`] = Math.round(e.costNs[i]!);
    this.events.push({ name: `fault ${faultKind(e)}`, cat: 'fault', ph: 'X', ...this.track(this.taskOf(e.tid)),
      ts: us(e.startNs), dur: us(e.endNs - e.startNs), args });
  }

  /** A step's slice on the task that ran it, then the counters at its end. */
  step(s: StepResult): void {
    const t = this.k.current;
    const end = t.clockNs;
    this.events.push({ name: s.op, cat: s.op === 'access' || s.op === 'load' || s.op === 'store' ? 'access' : 'syscall',
      ph: 'X', ...this.track(t), ts: us(end - s.simNs), dur: us(s.simNs), args: { step: s.index } });
    this.counters(end);
  }

  private counters(ns: number): void {
    const k = this.k;
    let rss = 0, pageTables = 0, cached = 0;
    for (const p of k.processes) {
      rss += p.mm.rssFile + p.mm.rssAnon + p.mm.rssShmem;
      pageTables += p.mm.pgtablePages;
    }
    for (const sb of k.vfs.mounts) for (const inode of sb.inodes.values()) cached += inode.mapping.nrpages;
    let dirty = 0;
    for (const d of k.pmems) dirty += d.dirtyLineCount();
    const ts = us(ns);
    const c = (name: string, args: Record<string, number>): void => {
      this.events.push({ name, ph: 'C', pid: 1, ts, args });
    };
    c('Rss', { kB: rss * 4 });
    c('PageTables', { kB: pageTables * 4 });
    c('Cached', { kB: cached * 4 });
    c('dirty CPU-cache lines (pmem)', { lines: dirty });
    c('journal commits', { commits: this.commits });
  }

  jbd2Commit(_fs: FileSystem, phase: Jbd2Phase, tid: number, _sync: boolean, atNs: number): void {
    if (phase === 'start') {
      const at = { ...this.track(this.k.current), ts: us(atNs) };
      this.events.push({ name: `jbd2 commit ${tid}`, cat: 'jbd2', ph: 'i', s: 'p', ...at });
    }
    if (phase === 'end') {
      this.commits++;
      this.events.push({ name: 'journal commits', ph: 'C', pid: 1, ts: us(atNs), args: { commits: this.commits } });
    }
  }

  finish(): ChromeTrace {
    return { traceEvents: this.events, displayTimeUnit: 'ns', otherData: { source: 'daxsim (simulated time)' } };
  }

  pageFaultUser(): void { /* the slice comes with faultDone */ }
  daxPteFault(): void { /* in the fault's slice */ }
  daxPmdFault(): void { /* in the fault's slice */ }
  daxLoadHole(): void { /* in the fault's slice */ }
  daxPmdLoadHole(): void { /* in the fault's slice */ }
  daxInsertMapping(): void { /* in the fault's slice */ }
  daxInsertPfnMkwrite(): void { /* in the fault's slice */ }
  daxWritebackRange(): void { /* in the step's slice */ }
  daxWritebackOne(): void { /* in the step's slice */ }
  filemapAdd(): void { /* counted in Cached */ }
  filemapDelete(): void { /* counted in Cached */ }
  syscall(): void { /* steps are the syscalls */ }
}
