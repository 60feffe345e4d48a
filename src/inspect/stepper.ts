/**
 * Stepping a scenario for the browser view, with no Node dependency: a run is a line of stops
 * (the end of each step, and each user page fault inside it), and any stop is reached by
 * re-running the scenario from the start (the model is deterministic, so stepping back is a
 * re-run to the stop before). At the target the run is aborted, after the state is read by the
 * inspection functions (pgtable.ts, pagecache.ts) into a JSON-serialisable snapshot. The model
 * itself is not slowed down: the only hooks are the fault trace (Kernel.faultTrace) and the
 * runner's step callback, both off in ordinary runs.
 */
import { runScenario, type StepResult } from '../scenario/run.ts';
import type { Scenario } from '../scenario/types.ts';
import { ScenarioError } from '../scenario/types.ts';
import type { Machine } from '../api/machine.ts';
import type { FaultTraceEvent, Process as KProcess } from '../kernel/kernel.ts';
import { installLogClose } from '../mm/pgtable.ts';
import { faultAroundWindow } from '../mm/fault-around.ts';
import { leafValues, pageTableTree, newLeaves, type PageTableView, type LeafView } from './pgtable.ts';
import { pageCaches, type FileCacheView } from './pagecache.ts';

/** A place a run can stop: after step `step`, or after fault number `fault` (1-based, whole run). */
export interface Stop { kind: 'step' | 'fault'; step: number; fault: number }

export interface FaultRecord {
  n: number; step: number; task: string; tid: number; addr: number; write: boolean;
  startNs: number; endNs: number; counted: 'major' | 'minor' | 'none'; entries: number; pmdLeaves: number;
  signal: number; where: string; retries: number; waits: number;
}

/** Counters at the end of a step (meminfo in kB, vmstat pgfault, journal commits). */
export interface CounterSample {
  step: number; timeNs: number; Rss: number; PageTables: number; Cached: number; pgfault: number;
  journalCommits: number;
}

/** The whole run, once: its stops, every fault and the counters after every step. */
export interface Timeline {
  name: string;
  profile: string;
  stops: Stop[];
  faults: FaultRecord[];
  /** Faults beyond MAX_FAULT_RECORDS are counted in stops but not recorded. */
  faultsTruncated: boolean;
  counters: CounterSample[];
  steps: StepResult[];
  failures: string[];
  /** A problem that stopped the run (ScenarioError message), or null. */
  error: string | null;
}

export interface FaultWindow { startVa: number; endVa: number; firstPgoff: number; lastPgoff: number }

export interface LastFault {
  fault: FaultRecord;
  /** Leaves the fault made present, in address order. */
  installed: LeafView[];
  /** The fault-around window do_fault_around computed, when fault-around ran. */
  window: FaultWindow | null;
}

export interface ProcessView {
  name: string; pid: number;
  vmas: Array<{ start: number; end: number; pgoff: number; file: string | null; name: string }>;
  pageTable: PageTableView;
}

export interface Snapshot {
  stop: Stop;
  stopIndex: number;
  /** What the 'new' marks in the page tables are relative to. */
  marksSince: 'previous stop' | 'step start';
  processes: ProcessView[];
  caches: FileCacheView[];
  lastFault: LastFault | null;
  meminfo: Record<string, number>;
}

export const MAX_FAULT_RECORDS = 50_000;

class StopRun extends Error {}

function counterSample(m: Machine, step: number): CounterSample {
  const mi = m.meminfo();
  const procs = m.k.processes;
  const rss = procs.reduce((n, p) => n + (p.mm.rssFile + p.mm.rssAnon + p.mm.rssShmem) * 4, 0);
  const timeNs = Math.max(0, ...m.k.tasks.map((t) => t.clockNs));
  return { step, timeNs, Rss: rss, PageTables: mi['PageTables'] ?? 0, Cached: mi['Cached'] ?? 0,
    pgfault: m.vmstat()['pgfault'] ?? 0, journalCommits: m.k.events.journalCommits };
}

/** Per-fault hook state: retries and waits are the deltas of the kernel's counters between faults. */
class FaultCounter {
  n = 0;
  step = 0;
  retries = 0;
  waits = 0;
  record(m: Machine, e: FaultTraceEvent & { where: string }): FaultRecord {
    const ev = m.k.events;
    const waits = ev.faultInstallWaits + ev.daxEntryWaits;
    const r: FaultRecord = { n: ++this.n, step: this.step, task: e.task, tid: e.tid, addr: e.addr, write: e.write,
      startNs: e.startNs, endNs: e.endNs, counted: e.counted, entries: e.entries, pmdLeaves: e.pmdLeaves,
      signal: e.signal, where: e.where, retries: ev.faultRetries - this.retries, waits: waits - this.waits };
    this.retries = ev.faultRetries;
    this.waits = waits;
    return r;
  }
}

function errorText(e: unknown): string {
  if (e instanceof ScenarioError) return e.message;
  return `internal error of the model: ${e instanceof Error ? e.message : String(e)}`;
}

/** Run `s` to its end and record its stops, faults and counters (the view's first pass). */
export function timeline(s: Scenario): Timeline {
  const t: Timeline = { name: s.name ?? s.source, profile: s.kernel.profile ?? 'linux-6.18', stops: [], faults: [],
    faultsTruncated: false, counters: [], steps: [], failures: [], error: null };
  const fc = new FaultCounter();
  let machine: Machine | null = null;
  try {
    const r = runScenario(s, {
      collectHostTime: false,
      onMachine: (m) => {
        machine = m;
        m.traceFaults((e) => {
          const rec = fc.record(m, e);
          t.stops.push({ kind: 'fault', step: fc.step, fault: rec.n });
          if (t.faults.length < MAX_FAULT_RECORDS) t.faults.push(rec); else t.faultsTruncated = true;
        });
      },
      onStepDone: (sr) => {
        t.stops.push({ kind: 'step', step: sr.index, fault: fc.n });
        t.steps.push(sr);
        if (machine) t.counters.push(counterSample(machine, sr.index));
        fc.step = sr.index + 1;
      },
    });
    t.failures = r.failures;
    t.profile = r.profile;
  } catch (e) {
    t.error = errorText(e);
  } finally {
    installLogClose();
  }
  return t;
}

function processViews(m: Machine, before: Map<number, Map<number, string>> | null): ProcessView[] {
  return m.k.processes.map((p: KProcess) => ({
    name: p.name, pid: p.pid,
    vmas: p.mm.vmas.map((v) => ({
      start: v.start, end: v.end, pgoff: v.pgoff, file: v.file?.path ?? null, name: v.name })),
    pageTable: pageTableTree(p.mm, before?.get(p.pid) ?? new Map()),
  }));
}

function allLeaves(m: Machine): Map<number, Map<number, string>> {
  return new Map(m.k.processes.map((p) => [p.pid, leafValues(p.mm)]));
}

/**
 * The fault-around window the fault at `addr` used, when fault-around ran in it: do_fault_around's
 * window (mm/memory.c v6.18, faultAroundWindow) or the RFC's aligned 32-page array (seed 001).
 */
function windowOf(m: Machine, tid: number, addr: number): FaultWindow | null {
  const task = m.k.tasks.find((x) => x.tid === tid);
  const vma = task?.process.mm.findVma(addr);
  if (!vma || vma.start > addr || !vma.file) return null;
  const va = addr - (addr % 4096);
  const pgoff = vma.pgoff + (va - vma.start) / 4096;
  let first: number, last: number;
  if (m.k.profile.faultAroundStyle === 'rfc-page-array') {
    first = Math.max(pgoff - (pgoff % 32), vma.pgoff);
    last = Math.min(first + 31, vma.pgoff + vma.pages - 1);
  } else {
    const nr = Math.floor(m.k.faultAroundBytes / 4096);
    [first, last] = faultAroundWindow(vma.start, vma.pgoff, vma.pages, va, pgoff, nr);
  }
  const toVa = (i: number): number => vma.start + (i - vma.pgoff) * 4096;
  return { startVa: toVa(first), endVa: toVa(last) + 4096, firstPgoff: first, lastPgoff: last };
}

/**
 * Re-run `s` from the start to stop number `target` of `tl` and read the state there. The page
 * tables are marked against the previous stop (a fault: what it installed) or, at a step's end,
 * against the step's start; the step's last fault is described with its entries and window.
 */
export function snapshotAt(s: Scenario, tl: Timeline, target: number): Snapshot {
  const stop = tl.stops[target];
  if (!stop) throw new RangeError(`no stop ${target} (the run has ${tl.stops.length})`);
  // The last fault at or before the target within the same step, and the stop before it.
  let lastFaultStop = -1;
  for (let i = target; i >= 0 && tl.stops[i]!.step === stop.step; i--) {
    if (tl.stops[i]!.kind === 'fault') { lastFaultStop = i; break; }
  }
  const stepStart = firstStopOfStep(tl, stop.step) - 1;
  const wantBefore = new Set<number>([stepStart, target - 1]);
  if (lastFaultStop >= 0) wantBefore.add(lastFaultStop - 1);
  const befores = new Map<number, Map<number, string>>();
  const saved: Map<number, Map<number, Map<number, string>>> = new Map();
  let snap: Snapshot | null = null;
  let lastFault: LastFault | null = null;
  let stopNo = -1, faultsSeen = 0, faultAroundBefore = 0;
  let machine: Machine | null = null;
  const fc = new FaultCounter();
  const at = (m: Machine, e: (FaultTraceEvent & { where: string }) | null): void => {
    stopNo++;
    if (e !== null && stopNo === lastFaultStop) {
      const rec = fc.record(m, e);
      const pv = saved.get(stopNo - 1) ?? new Map<number, Map<number, string>>();
      const mm = m.k.tasks.find((x) => x.tid === e.tid)?.process;
      const installed = mm ? newLeaves(pageTableTree(mm.mm, pv.get(mm.pid) ?? new Map())) : [];
      const ranFa = m.k.events.faultaroundCalls > faultAroundBefore;
      lastFault = { fault: rec, installed, window: ranFa ? windowOf(m, e.tid, e.addr) : null };
    } else if (e !== null) fc.record(m, e);
    if (wantBefore.has(stopNo)) saved.set(stopNo, allLeaves(m));
    faultAroundBefore = m.k.events.faultaroundCalls;
    if (stopNo === target) {
      const since = stop.kind === 'fault' ? target - 1 : stepStart;
      const before = since < 0 ? new Map() : saved.get(since) ?? befores;
      snap = { stop, stopIndex: target, marksSince: stop.kind === 'fault' ? 'previous stop' : 'step start',
        processes: processViews(m, before), caches: pageCaches(m.k), lastFault, meminfo: m.meminfo() };
      throw new StopRun();
    }
  };
  try {
    runScenario(s, {
      collectHostTime: false,
      onMachine: (m) => { machine = m; m.traceFaults((e) => { faultsSeen++; fc.step = stop.step; at(m, e); }); },
      onStepDone: () => { if (machine) at(machine, null); },
    });
  } catch (e) {
    if (!(e instanceof StopRun)) throw e;
  } finally {
    installLogClose();
  }
  if (snap === null) throw new Error(`the re-run did not reach stop ${target} (${faultsSeen} faults seen)`);
  return snap;
}

function firstStopOfStep(tl: Timeline, step: number): number {
  let i = 0;
  while (i < tl.stops.length && tl.stops[i]!.step < step) i++;
  return i;
}
