// Runs a parsed Scenario on the API (src/api/machine.ts): builds the machine, mounts, executes
// each step on its process or thread, records per-step results, captures reports, and checks
// every `expect` (expect.ts). Problems that make a scenario impossible to run (an unsupported
// feature, a name whose creating step failed) are thrown as ScenarioError naming the step;
// mismatches with `expect` are collected as failure messages instead.
//
// Steps are two tables keyed by the same step kinds (STEP_KINDS in types.ts):
// - parse.ts STEP_READERS: per kind, its allowed keys and the reader that turns them into the
//   kind's args (with defaults, units and references checked);
// - steps/index.ts STEP_HANDLERS: per kind, the handler that runs it, in a file by subject:
//   steps/files.ts (open, read, pwrite, fsync, ... create, copy), steps/mappings.ts (mmap,
//   munmap, mprotect, madvise, msync), steps/access.ts (access, load, store, flush, fence),
//   steps/system.ts (mkfs, mount, dropCaches, setKnob), steps/control.ts (sleep, report, spawn,
//   stop, wait).
// The Runner below owns what handlers share (named fds and maps, background work, reports) and
// hands it to them as a StepRunner (steps/context.ts); dispatch is one table lookup per step.
//
// To add a step kind `foo`:
// 1. types.ts: `FooArgs`, `foo: FooArgs` in ArgsByOp, and 'foo' in STEP_KINDS;
// 2. parse.ts: `foo: { keys: [...], read: (f) => ({ ... }) }` in STEP_READERS;
// 3. steps/<subject>.ts: `foo(r, step, p, pn) { ... }` in that file's table, with a doc comment
//    naming the syscall it stands for (step.args is FooArgs: the mapped type StepHandlers gives
//    each handler its own StepOf<'foo'>, no casts).
// The compiler refuses a table without the new kind, and test/scenario-steps.test.ts checks
// that both tables have exactly the keys of STEP_KINDS.

import { runConcurrently, type Worker } from '../kernel/sched.ts';
import { Machine, type DeviceConfig, type Process } from '../api/machine.ts';
import { errnoName } from '../lib/errno.ts';
import { dataDigest } from '../lib/data.ts';
import { ScenarioError } from './types.ts';
import type { MapRangeArgs, Scenario, Step } from './types.ts';
import { checkExpect, where } from './expect.ts';
import type { FileFigures, Report, StepResult } from './expect.ts';
import { runStepHandler } from './steps/index.ts';
import type { BackgroundWork, FdRecord, MapRecord, StepOutcome, StepRunner } from './steps/context.ts';
import type { ProgressLine } from '../lib/progress.ts';

export { flagsToNumber } from './flags.ts';
export { createPageByte } from './steps/files.ts';
export type { SignalRecord } from './steps/context.ts';
export type { FileFigures, Report, StepResult } from './expect.ts';

const DEFAULT_PROFILE = 'linux-6.18';

export interface RunResult {
  name: string;
  profile: string;
  reports: Record<string, Report>;
  steps: StepResult[];
  failures: string[];
}

export interface RunOptions {
  /** Measure host wall time per step (default true). Off gives byte-identical results run to run. */
  collectHostTime?: boolean;
  /** Called with the machine as soon as it exists, before any mount (the crash explorer attaches here). */
  onMachine?: (m: Machine) => void;
  /** Called once the mounts are done, before the first step (cost breakdowns take their baseline). */
  onReady?: () => void;
  /** Called after each step with its result (per-step breakdowns, progress). */
  onStepDone?: (r: StepResult) => void;
  /** A progress line on stderr for steps that run longer than a second (the CLI's run, kernel, fuzz). */
  progress?: ProgressLine | null;
}

// ---- Counters ----

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}

interface Counters {
  vmstat: Record<string, number>;
  rusage: { minflt: number; majflt: number };
  events: Record<string, number>;
}

function rusageDelta(after: Counters, before: Counters): { minflt: number; majflt: number } {
  return { minflt: after.rusage.minflt - before.rusage.minflt, majflt: after.rusage.majflt - before.rusage.majflt };
}

/** Does the step's expect read counters that must be sampled before and after it? */
function wantsStepCounters(step: Step): boolean {
  const e = step.expect;
  return step.op !== 'report' && e !== undefined &&
    (e.vmstat !== undefined || e.rusage !== undefined || e.events !== undefined);
}

function deviceConfigs(s: Scenario): DeviceConfig[] {
  return s.machine.devices.map((d) => {
    const cfg: DeviceConfig = { name: d.name, type: d.type, sizeBytes: d.sizeBytes };
    if (d.latencyNs !== undefined) cfg.latencyNs = d.latencyNs;
    if (d.readAheadKb !== undefined) cfg.readAheadKb = d.readAheadKb;
    if (d.maxSectorsKb !== undefined) cfg.maxSectorsKb = d.maxSectorsKb;
    if (d.placement !== undefined) cfg.placement = d.placement;
    return cfg;
  });
}

// ---- The runner ----

class Runner implements StepRunner {
  readonly s: Scenario;
  readonly machine: Machine;
  readonly source: string;
  readonly seed: number;
  readonly cpus: number;
  readonly hostTime: boolean;
  readonly processes = new Map<string, Process>();
  /** Thread name -> its Process handle and the name of its process. */
  readonly threads = new Map<string, { proc: Process; processName: string }>();
  readonly fds = new Map<string, FdRecord>();
  readonly maps = new Map<string, MapRecord>();
  /** Paths created or opened so far, in first-use order. */
  readonly paths = new Set<string>();
  /** Background work (copy or access with background: true) running alongside the following steps. */
  readonly background: BackgroundWork[] = [];
  readonly result: RunResult;
  private readonly opts: RunOptions;
  readonly progress: ProgressLine | null;
  private baseline: Counters;
  private chunkBuffer: Uint8Array | null = null;
  /** Inside a loop's inner step: runWithBackground runs its units directly (the step is one unit). */
  private nested = false;

  constructor(s: Scenario, opts: RunOptions) {
    this.s = s;
    this.source = s.source;
    this.seed = s.seed;
    this.cpus = Math.max(s.machine.cpus, 1);
    this.hostTime = opts.collectHostTime ?? true;
    this.opts = opts;
    this.progress = opts.progress ?? null;
    const profile = s.kernel.profile ?? DEFAULT_PROFILE;
    const devices = deviceConfigs(s);
    try {
      const { memoryBytes, cpus } = s.machine;
      this.machine = new Machine({ profile, knobs: s.kernel.knobs, memoryBytes, cpus, devices });
      opts.onMachine?.(this.machine);
    } catch (e) {
      throw new ScenarioError('kernel', e instanceof Error ? e.message : String(e), s.source);
    }
    this.result = { name: s.name ?? s.source, profile, reports: {}, steps: [], failures: [] };
    this.process('main');
    this.baseline = this.counters();
  }

  process(name: string): Process {
    let p = this.processes.get(name);
    if (!p) {
      p = this.machine.process(name);
      this.processes.set(name, p);
    }
    return p;
  }

  processExists(name: string): boolean {
    return this.processes.has(name);
  }

  adoptProcess(name: string, p: Process): Process {
    this.processes.set(name, p);
    return p;
  }

  /** The handle a step runs on: its thread (created on first use) or its process's first thread. */
  taskFor(step: Step): { proc: Process; processName: string } {
    if (step.thread === undefined) {
      const processName = step.process ?? 'main';
      return { proc: this.process(processName), processName };
    }
    const t = this.threads.get(step.thread);
    if (t && step.op === 'spawn') this.fail(step, `thread "${step.thread}" already exists`);
    if (t) {
      if (step.process !== undefined && step.process !== t.processName) {
        this.fail(step, `thread "${step.thread}" belongs to process "${t.processName}", not "${step.process}"`);
      }
      return t;
    }
    const processName = step.process ?? 'main';
    const created = { proc: this.machine.thread(this.process(processName), step.thread), processName };
    this.threads.set(step.thread, created);
    return created;
  }

  fail(step: Step, detail: string): never {
    throw new ScenarioError(where(step), detail, this.s.source, step.line);
  }

  counters(): Counters {
    let minflt = 0, majflt = 0;
    for (const p of this.processes.values()) {
      const r = p.rusage();
      minflt += r.minflt;
      majflt += r.majflt;
    }
    return { vmstat: this.machine.vmstat(), rusage: { minflt, majflt }, events: this.machine.modelEvents() };
  }

  mountAll(): void {
    this.s.mounts.forEach((m, i) => {
      const failed = (what: string, r: number): never => {
        throw new ScenarioError(`mounts[${i}]`, `${what} failed: ${errnoName(-r)}`, this.s.source);
      };
      let r: number;
      if (m.fs === 'tmpfs') {
        r = this.machine.mount(m.target, 'tmpfs', undefined, m.options);
      } else {
        const device = m.device ?? '';
        const fs = m.fs ?? 'ext4';
        const mk = this.machine.mkfs(device, fs);
        if (mk < 0) failed(`mkfs ${fs} on ${device}`, mk);
        r = this.machine.mount(m.target, fs, device, m.options);
      }
      if (r < 0) failed(`mount ${m.target}`, r);
    });
  }

  fd(step: Step, name: string, processName: string): number {
    let f = this.fds.get(name);
    if (f && f.processName !== processName) f = this.fds.get(`${processName}/${name}`) ?? f; // a forked child's
    if (!f) this.fail(step, `fd "${name}" does not exist (its open step failed)`);
    if (f.processName !== processName) {
      this.fail(step, `fd "${name}" belongs to process "${f.processName}", not "${processName}"`);
    }
    return f.fd;
  }

  map(step: Step, name: string, processName: string): MapRecord {
    let m = this.maps.get(name);
    if (m && m.processName !== processName) m = this.maps.get(`${processName}/${name}`) ?? m; // a forked child's
    if (!m) this.fail(step, `map "${name}" does not exist (its mmap step failed)`);
    if (m.processName !== processName) {
      this.fail(step, `map "${name}" belongs to process "${m.processName}", not "${processName}"`);
    }
    return m;
  }

  range(step: Step, a: MapRangeArgs, processName: string): [number, number] {
    const m = this.map(step, a.map, processName);
    return [m.addr + a.offsetBytes, a.lengthBytes ?? Math.max(0, m.lengthBytes - a.offsetBytes)];
  }

  scratch(len: number): Uint8Array {
    if (this.chunkBuffer === null || this.chunkBuffer.length < len) this.chunkBuffer = new Uint8Array(len);
    return this.chunkBuffer.subarray(0, len);
  }

  run(): RunResult {
    this.mountAll();
    this.opts.onReady?.();
    for (const step of this.s.steps) this.runStep(step);
    this.background.length = 0;
    return this.result;
  }

  live(): Worker[] {
    return this.background.filter((w) => !w.done);
  }

  /**
   * Run `unit` (one page of an access, or a whole step) on `p`'s task under the scheduler together
   * with the background workers, until `unit` says it is done. Without background work it just
   * loops, with no scheduler overhead.
   */
  runWithBackground(p: Process, unit: () => boolean): void {
    const bg = this.nested ? [] : this.live();
    if (bg.length === 0) {
      while (unit()) { /* one unit at a time */ }
      return;
    }
    const fg: Worker = { task: p.task, step: unit };
    runConcurrently(this.machine.k, [fg, ...bg], [fg], this.cpus);
  }

  runBody(step: Step, p: Process, pn: string): StepOutcome {
    const was = this.nested;
    this.nested = true;
    try {
      return runStepHandler(this, step, p, pn);
    } finally {
      this.nested = was;
    }
  }

  startBackground(p: Process, w: BackgroundWork): void {
    // It starts now: at the main thread's time, not whenever its own task last ran.
    p.task.clockNs = Math.max(p.task.clockNs, this.process('main').task.clockNs);
    this.background.push(w);
  }

  /**
   * Runs one step through its handler and records its result. An access or wait schedules the
   * background work itself (page by page, or until the join); any other step runs as one unit
   * beside it.
   */
  runStep(step: Step): void {
    const { proc, processName } = this.taskFor(step);
    const before = wantsStepCounters(step) ? this.counters() : null;
    const clockBefore = proc.task.clockNs;
    const hostBefore = this.hostTime ? process.hrtime.bigint() : 0n;
    let out: StepOutcome = { result: 0 };
    this.progress?.begin(`step ${step.index} ${step.op}`);
    if (step.op === 'access' || step.op === 'wait' || step.op === 'loop' || this.live().length === 0) {
      out = runStepHandler(this, step, proc, processName);
    } else {
      this.runWithBackground(proc, () => { out = runStepHandler(this, step, proc, processName); return false; });
    }
    this.progress?.end();
    const hostNs = this.hostTime ? Number(process.hrtime.bigint() - hostBefore) : 0;
    const sr: StepResult = {
      index: step.index, op: step.op, result: out.result, simNs: proc.task.clockNs - clockBefore, hostWallNs: hostNs,
    };
    if (out.data !== undefined) { sr.data = dataDigest(out.data); sr.bytes = out.data; }
    if (out.signal !== undefined) sr.signal = out.signal;
    else if (typeof out.result === 'number' && out.result < 0) sr.errno = errnoName(-out.result);
    this.result.steps.push(sr);
    this.opts.onStepDone?.(sr);
    if (step.expect === undefined) return;
    if (step.op === 'report') {
      const rep = this.result.reports[step.args.name];
      if (!rep) throw new Error(`scenario runner: report ${step.args.name} was not recorded`);
      checkExpect(step, step.expect, sr, rep, this.result.failures);
    } else {
      checkExpect(step, step.expect, sr, this.stepFigures(step, before), this.result.failures);
    }
  }

  /** The figures a step's expect is checked against: counter deltas over the step, the rest absolute. */
  private stepFigures(step: Step, before: Counters | null): Report {
    const after = before === null ? null : this.counters();
    const e = step.expect;
    return {
      vmstat: after && before ? delta(after.vmstat, before.vmstat) : {},
      rusage: after && before ? rusageDelta(after, before) : { minflt: 0, majflt: 0 },
      events: after && before ? delta(after.events, before.events) : {},
      meminfo: e?.meminfo ? this.machine.meminfo() : {},
      smaps: e?.smaps ? this.smaps() : {},
      files: e?.files ? this.files() : {},
    };
  }

  smaps(): Record<string, Record<string, number | string>> {
    const out: Record<string, Record<string, number | string>> = {};
    for (const [name, m] of this.maps) {
      if (m.unmapped) continue;
      const r = this.process(m.processName).smaps(m.addr);
      if (typeof r !== 'number') out[name] = r;
    }
    return out;
  }

  files(): Record<string, FileFigures> {
    const out: Record<string, FileFigures> = {};
    const p = this.process('main');
    for (const path of this.paths) {
      const r = p.stat(path);
      if (typeof r === 'number') continue;
      const f: FileFigures = { sizeBytes: r.sizeBytes, blocks: r.blocks };
      if (r.daxEntries !== undefined) {
        Object.assign(f, { daxEntries: r.daxEntries, daxDirtyEntries: r.daxDirtyEntries });
      }
      out[path] = f;
    }
    return out;
  }

  report(name: string): void {
    const now = this.counters();
    this.result.reports[name] = {
      vmstat: delta(now.vmstat, this.baseline.vmstat),
      rusage: rusageDelta(now, this.baseline),
      meminfo: this.machine.meminfo(),
      events: delta(now.events, this.baseline.events),
      smaps: this.smaps(),
      files: this.files(),
    };
    this.baseline = now;
  }
}

/**
 * Runs a validated scenario. Throws ScenarioError when the scenario uses something the model
 * cannot run (umount, an unknown profile or knob, a name whose creating step failed); every
 * `expect` mismatch is a message in `failures` instead.
 */
export function runScenario(s: Scenario, opts: RunOptions = {}): RunResult {
  return new Runner(s, opts).run();
}
