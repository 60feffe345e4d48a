// What a step handler gets: the runner's state it may read and change (StepRunner), the task
// the step runs on, and its own step, typed by kind. The handlers themselves live beside this
// file, one object per subject (files.ts, mappings.ts, access.ts, system.ts, control.ts), and
// index.ts joins them into the table the runner dispatches through.

import type { Worker } from '../../kernel/sched.ts';
import type { Machine, Process } from '../../api/machine.ts';
import type { MapRangeArgs, Step, StepKind, StepOf } from '../types.ts';
import type { ProgressLine } from '../../lib/progress.ts';

export const PAGE_BYTES = 4096;
/** Fill byte of `write`/`pwrite` steps that give none. */
export const DEFAULT_WRITE_BYTE = 0xab;
/** Value stored by `access: { op: write }` steps that give none. */
export const DEFAULT_STORE_BYTE = 1;

export interface SignalRecord {
  signal: 'SIGBUS' | 'SIGSEGV' | 'SIGKILL' | string;
  /** Faulting virtual address. */
  addr: number;
  /** Page index of addr from the start of the mapping. */
  page: number;
}

/** A descriptor an `open` step named: the process it belongs to and its number there. */
export interface FdRecord { processName: string; fd: number; path: string }
/** A mapping an `mmap` step named; `unmapped` once a munmap covered all of it (it leaves the reports). */
export interface MapRecord { processName: string; addr: number; lengthBytes: number; unmapped?: boolean }

/**
 * Background work (copy or access with background: true) that runs alongside the following
 * steps. `finite` work (an access) ends by itself and is joined by `wait`; a copy loops until
 * `stop`. `signal` is where a background access that took a signal records it for `wait`.
 */
export interface BackgroundWork extends Worker {
  thread: string;
  finite: boolean;
  done: boolean;
  signal?: SignalRecord;
}

/** What a step did: the call's return value (or -errno, -signo, an object for stat) and its signal. */
export interface StepOutcome {
  result: number | object;
  signal?: SignalRecord;
  /** The bytes the step read (read/pread up to DATA_CAPTURE_MAX, load, mincore's vector). */
  data?: Uint8Array;
}

/** The runner as its step handlers see it (src/scenario/run.ts implements it). */
export interface StepRunner {
  readonly machine: Machine;
  /** The progress line of long steps (null: none wanted). */
  readonly progress: ProgressLine | null;
  /** The scenario's file name or label, for errors. */
  readonly source: string;
  /** The scenario's seed (random access orders). */
  readonly seed: number;
  /** CPUs the scheduler may use (machine.cpus, at least 1). */
  readonly cpus: number;
  readonly fds: Map<string, FdRecord>;
  readonly maps: Map<string, MapRecord>;
  /** Paths created or opened so far, in first-use order (the reports' `files`). */
  readonly paths: Set<string>;
  readonly background: BackgroundWork[];
  /** The process of that name, created on first use. */
  process(name: string): Process;
  /** Has a process of that name been used or forked? */
  processExists(name: string): boolean;
  /** Make a process handle made elsewhere (fork) the runner's process `name`. */
  adoptProcess(name: string, p: Process): Process;
  /** Throws the ScenarioError for `step`: the scenario cannot be run past it. */
  fail(step: Step, detail: string): never;
  /** The number of the descriptor `name` in process `processName`, or fail. */
  fd(step: Step, name: string, processName: string): number;
  /** The mapping `name` of process `processName`, or fail. */
  map(step: Step, name: string, processName: string): MapRecord;
  /** [address, length] of a map range step; the length defaults to the rest of the mapping. */
  range(step: Step, a: MapRangeArgs, processName: string): [number, number];
  /** Background work not yet done. */
  live(): Worker[];
  /**
   * Run a loop's inner step on `p` through its handler, unrecorded; inside it (and inside any
   * background unit) runWithBackground does not schedule again: the step is one unit.
   */
  runBody(step: Step, p: Process, pn: string): StepOutcome;
  /** Run `unit` on `p`'s task until it returns false, alongside the live background work. */
  runWithBackground(p: Process, unit: () => boolean): void;
  /** Start background work on `p`'s task now: at the main thread's time, not whenever it last ran. */
  startBackground(p: Process, w: BackgroundWork): void;
  /** Record the report `name`: counter deltas since the previous one, and absolute figures. */
  report(name: string): void;
  /** A reusable buffer of `len` bytes (its contents are whatever was left in it). */
  scratch(len: number): Uint8Array;
}

/** The handler of step kind K: runs `step` on process handle `p` (of process `pn`). */
export type StepHandler<K extends StepKind> = (r: StepRunner, step: StepOf<K>, p: Process, pn: string) => StepOutcome;

/** One handler per step kind; a subject's file fills a Pick of it. */
export type StepHandlers = { [K in StepKind]: StepHandler<K> };

function signalNameOf(signo: number): string {
  return signo === 7 ? 'SIGBUS' : signo === 11 ? 'SIGSEGV' : signo === 9 ? 'SIGKILL' : `SIG${signo}`;
}

/** The signal an access returned (-signo) at `addr` of mapping `m`. */
export function signalAt(r: number, addr: number, m: MapRecord): SignalRecord {
  return { signal: signalNameOf(-r), addr, page: Math.floor((addr - m.addr) / PAGE_BYTES) };
}
