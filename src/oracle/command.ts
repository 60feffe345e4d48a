// `daxsim kernel FILE... [--kernel 5.10|6.1|6.12|6.18|7.2|all] [--fs tmpfs|ext4|ext4-dax|xfs-dax] [--record DIR]
// [--trace]`:
// runs scenarios on real kernels (this machine's 6.18, or Debian kernels in QEMU guests), runs
// the same scenarios in the model with the matching profile, and prints the figures side by side
// with every difference. Exit 0 when all agree, 1 when any figure differs, 2 for bad usage.
// --trace also records the model's tracepoints in the guest and compares them (trace-compare.ts).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { release } from 'node:os';
import { parseScenario } from '../scenario/parse.ts';
import type { Scenario } from '../scenario/types.ts';
import { ORACLE_FS, NotRunnableError, encodeScenario, scenarioMounts, type OracleFs } from './encode.ts';
import { ScenarioError } from '../scenario/types.ts';
import { modelRun, type StepFigures } from './model-side.ts';
import { compareRun, flatten, forEnv, placementsOf, type Difference } from './compare.ts';
import { hostReadAheadKb, runOnHost, type RealRun } from './host.ts';
import { GUEST_KERNELS, GUEST_READ_AHEAD_KB, guestDir, runBatch, type GuestJob } from './guest.ts';
import { OracleSetupError } from './build.ts';
import { profileFor, withFs } from './profiles.ts';
import { existsSync } from 'node:fs';
import { compareTraces, guestTraceEvents, kernelStepEvents, mapRanges, modelStepLines, summarise,
  type TraceDifference } from './trace-compare.ts';
import { stderrProgress, type ProgressLine } from '../lib/progress.ts';

export const KERNEL_USAGE = `  kernel FILE... [--kernel 5.10|6.1|6.12|6.18|7.2|all]
                [--fs tmpfs|ext4|ext4-dax|xfs-dax] [--record DIR] [--trace]
                      run scenarios on real kernels (6.18: this machine; others: Debian kernels in
                      QEMU guests with emulated pmem, fetched on first use) and in the model; print
                      both figures per step and each difference; exit 1 when any differs.
                      --trace (guest kernels): record the tracepoints the model fires
                      (page_fault_user, fs_dax, filemap) in the guest through tracefs and compare
                      the event sequences per step`;

export const HOST_KERNEL = '6.18';
const ALL = ['5.10', '6.1', '6.12', '6.18', '7.2'];

export class KernelUsageError extends Error {}

export interface Options {
  files: string[]; kernels: string[]; fs: OracleFs | undefined; record: string | undefined; trace?: boolean;
  /** Progress of the model's runs (a batch of many scenarios, a fuzz campaign). */
  progress?: ProgressLine | null;
}

function parseArgs(args: string[]): Options {
  const o: Options = { files: [], kernels: [], fs: undefined, record: undefined, trace: false,
    progress: stderrProgress(1) };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string => {
      const v = args[++i];
      if (v === undefined) throw new KernelUsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--kernel') {
      const v = val();
      if (v === 'all') o.kernels.push(...ALL);
      else if (ALL.includes(v)) o.kernels.push(v);
      else throw new KernelUsageError(`--kernel ${v}: known kernels are ${ALL.join(', ')} and all`);
    } else if (a === '--fs') {
      const v = val();
      if (!(ORACLE_FS as readonly string[]).includes(v)) {
        throw new KernelUsageError(`--fs ${v}: one of ${ORACLE_FS.join(', ')}`);
      }
      o.fs = v as OracleFs;
    } else if (a === '--record') o.record = val();
    else if (a === '--trace') o.trace = true;
    else if (a.startsWith('--')) throw new KernelUsageError(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.files.length === 0) throw new KernelUsageError('kernel: give at least one scenario file');
  if (o.kernels.length === 0) o.kernels.push(HOST_KERNEL);
  return o;
}

/** One scenario prepared for one kernel: the (possibly fs-overridden) scenario and the model's figures. */
export interface Prepared {
  file: string; text: string; s: Scenario; profile: string; note: string; model: StepFigures[] | null;
  modelWhy: string; kinds: OracleFs[]; mkfsArgs: string; tmpfsOpts: string; ra: number | undefined }

/**
 * The scenario as the model runs it beside a kernel: --fs applied, and block devices that give no
 * readAheadKb get the real disk's read_ahead_kb (the model cannot know the machine's disk).
 */
export function modelScenario(text: string, file: string, fs: OracleFs | undefined,
  readAheadKb: number | undefined): Scenario {
  const s0 = parseScenario(text, file);
  const s1 = fs === undefined ? s0 : withFs(s0, fs);
  if (readAheadKb === undefined) return s1;
  const devices = s1.machine.devices.map((d) =>
    (d.type === 'block' && d.readAheadKb === undefined ? { ...d, readAheadKb } : d));
  return { ...s1, machine: { ...s1.machine, devices } };
}

/** read_ahead_kb of the disk a kernel's ext4 runs on: the host's disk, or the guest's vda (guest.ts). */
export function diskReadAheadKb(kernel: string): number | undefined {
  return kernel === HOST_KERNEL ? hostReadAheadKb() : GUEST_READ_AHEAD_KB[kernel];
}

function prepare(file: string, text: string, kernel: string, fs: OracleFs | undefined, softDirty: boolean): Prepared {
  const ra = diskReadAheadKb(kernel);
  const s = modelScenario(text, file, fs, ra);
  const { profile, note } = profileFor(kernel);
  const reasons: string[] = [];
  const mounts = scenarioMounts(s, reasons);
  const kinds = mounts.map((m) => m.fs);
  const mkfsArgs = mounts.find((m) => m.mkfsArgs !== '')?.mkfsArgs ?? '';
  const tmpfsOpts = mounts.find((m) => m.tmpfsOpts !== '')?.tmpfsOpts ?? '';
  let model: StepFigures[] | null = null;
  let modelWhy = '';
  model = modelRun(s, { softDirty }, profile).steps;
  const raNote = ra === undefined ? '' : `block devices without readAheadKb get this disk's read_ahead_kb, ${ra}`;
  return { file, text, s, profile, note: [note, raNote].filter((x) => x).join('; '), model, modelWhy, kinds,
    mkfsArgs, tmpfsOpts, ra };
}

/** A comparison's outcome for one scenario on one kernel. */
export interface Outcome {
  p: Prepared; kernel: string; real: RealRun | OracleSetupError; diffs: Difference[];
  /** With --trace: the steps whose event sequences differ (null: no trace was recorded). */
  traceDiffs?: TraceDifference[] | null;
}

function jobId(n: number, file: string): string {
  return `s${n}-${basename(file).replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

function encodeFor(p: Prepared, fs: OracleFs | undefined, dirOf: (kind: OracleFs, n: number) => string): string {
  const reasons: string[] = [];
  const mounts = scenarioMounts(p.s, reasons, fs);
  const dirs: Record<string, string> = {};
  mounts.forEach((m, n) => { dirs[m.target] = dirOf(m.fs, n); });
  const placements = p.model ? placementsOf(p.s, p.model) : {};
  const t = { dirs, placements, remountable: true, ...(fs ? { fs } : {}) };
  return encodeScenario(p.s, t).text;
}

/** Runs every file on kernel `kernel`: on the host directly, in a guest as one batch. */
export function runKernel(o: Options, kernel: string, texts: Map<string, string>): Outcome[] {
  const prog = o.progress ?? null;
  prog?.begin(`Linux ${kernel}: model runs`, o.files.length, 'scenarios');
  const preps = o.files.map((f, n) => {
    const p = prepare(f, texts.get(f)!, kernel, o.fs, true);
    prog?.tick(n + 1);
    return p;
  });
  prog?.end();
  const reals = new Map<number, RealRun | OracleSetupError>();
  if (kernel === HOST_KERNEL) {
    preps.forEach((p, n) => {
      try {
        const placements = p.model ? placementsOf(p.s, p.model) : {};
        reals.set(n, runOnHost(p.s, (_t, fs) => o.fs ?? fs, placements));
      } catch (e) {
        if (e instanceof NotRunnableError) reals.set(n, new OracleSetupError(e.message));
        else if (e instanceof OracleSetupError) reals.set(n, e);
        else throw e;
      }
    });
  } else {
    const jobs: GuestJob[] = [];
    preps.forEach((p, n) => {
      try {
        const text = encodeFor(p, o.fs, (kind, i) => guestDir(kind, i));
        jobs.push({ id: jobId(n, p.file), kinds: [...new Set(p.kinds)], text, xfsArgs: p.mkfsArgs,
          tmpfsArgs: p.tmpfsOpts });
      } catch (e) {
        if (!(e instanceof NotRunnableError)) throw e;
        reals.set(n, new OracleSetupError(e.message));
      }
    });
    const events = o.trace === true ? guestTraceEvents(profileFor(kernel).profile) : [];
    const got = jobs.length > 0 ? runBatch(kernel, jobs, events) : new Map<string, RealRun | OracleSetupError>();
    preps.forEach((p, n) => {
      if (!reals.has(n)) reals.set(n, got.get(jobId(n, p.file)) ?? new OracleSetupError(`no result for ${p.file}`));
    });
  }
  return preps.map((p, n) => {
    const real = reals.get(n)!;
    const ok = !(real instanceof OracleSetupError) && p.model !== null;
    const diffs = ok ? compareRun(p.s, p.model!, real as RealRun) : [];
    return { p, kernel, real, diffs, traceDiffs: ok ? traceDiffsOf(p, real as RealRun) : null };
  });
}

/** The trace comparison of one run (null when the run has no trace). */
export function traceDiffsOf(p: { s: Scenario; profile: string; model: StepFigures[] | null }, real: RealRun):
  TraceDifference[] | null {
  if (real.trace === undefined || p.model === null) return null;
  return compareTraces(modelStepLines(p.s, p.profile), kernelStepEvents(real.trace), mapRanges(p.s, p.model),
    real.header.shift);
}

/** Whether this machine's tracefs could be used (it is not mounted in this host's container). */
function hostTracefs(): string {
  return existsSync('/sys/kernel/tracing/trace_marker') ? 'tracefs is mounted here, but --trace records in guests only'
    : 'tracefs is not available on this machine (/sys/kernel/tracing holds no trace_marker)';
}

function printTrace(x: Outcome): void {
  if (x.traceDiffs === null || x.traceDiffs === undefined) return;
  const steps = (x.real as RealRun).trace === undefined ? 0 : kernelStepEvents((x.real as RealRun).trace!).size;
  console.log(`   trace: ${steps} step(s) marked, ${x.traceDiffs.length} with a different event sequence`);
  for (const d of x.traceDiffs) {
    console.log(`  ${String(d.step).padStart(3)} TRACE model ${d.model.length}: ${summarise(d.model)}`);
    console.log(`      TRACE kernel ${d.kernel.length}: ${summarise(d.kernel)}`);
  }
}

function cut(v: string): string {
  return v.length > 48 ? `${v.slice(0, 45)}...` : v;
}

function printOutcome(x: Outcome): void {
  const r = x.real;
  if (r instanceof OracleSetupError) {
    console.log(`\n== ${x.p.file} on Linux ${x.kernel}: not run: ${r.message}`);
    return;
  }
  const where = x.kernel === HOST_KERNEL ? 'this machine' : 'QEMU guest';
  console.log(`\n== ${x.p.file} on Linux ${r.header.release} (${where}, ` +
    `${r.header.fs}) vs model profile ${x.p.profile}`);
  if (x.p.note) console.log(`   note: ${x.p.note}`);
  if (x.p.modelWhy) console.log(`   note: ${x.p.modelWhy}`);
  for (const w of r.warnings) console.log(`   warning: ${w}`);
  for (const st of x.p.s.steps) {
    const k = r.steps.find((z) => z.i === st.index);
    const m0 = x.p.model?.[st.index];
    const m = m0 === undefined ? undefined : forEnv(m0, r.header.soft_dirty);
    const fk = k ? flatten(k, st.op, r.header.root) : new Map<string, string>();
    const fm = m ? flatten(m, st.op, r.header.root) : new Map<string, string>();
    const main = ['result', 'errno', 'signal', 'minflt', 'majflt']
      .map((f) => `${f} ${fm.get(f) ?? '?'}|${fk.get(f) ?? '?'}`);
    const d = x.diffs.filter((z) => z.step === st.index);
    const verdict = d.length ? `${d.length} DIFF` : 'same';
    console.log(`  ${String(st.index).padStart(3)} ${st.op.padEnd(10)} ${main.join('  ')}  ${verdict}`);
    for (const z of d) console.log(`        DIFF ${z.field}: model ${cut(z.model)}, kernel ${cut(z.kernel)}`);
  }
  console.log(`   (figures are model|kernel; ${x.diffs.length} difference(s))`);
}

/** The record of one real run: a meta line (scenario text and hash, kernel, fs, date), the header, the steps. */
export interface RecordMeta {
  meta: 1;
  scenario: string;
  sha256: string;
  text: string;
  kernel: string;
  release: string;
  fs: string;
  fsOverride: OracleFs | null;
  profile: string;
  /** read_ahead_kb given to the model's block devices that set none (the real disk's). */
  readAheadKb: number | null;
  date: string;
}

/** The recorded lines of one real run (meta, header, warnings, steps, end), or null when it did not run. */
export function recordLines(x: Outcome, fs: OracleFs | undefined): object[] | null {
  const r = x.real;
  if (r instanceof OracleSetupError) return null;
  const meta: RecordMeta = { meta: 1, scenario: x.p.file, sha256: createHash('sha256').update(x.p.text).digest('hex'),
    text: x.p.text, kernel: x.kernel, release: r.header.release, fs: r.header.fs, fsOverride: fs ?? null,
    profile: x.p.profile, readAheadKb: x.p.ra ?? null, date: new Date().toISOString() };
  const trace = r.trace === undefined ? [] : [{ ftrace: r.trace }];
  return [meta, r.header, ...r.warnings.map((w) => ({ warning: w })), ...r.steps, ...trace, { end: true }];
}

function record(dir: string, x: Outcome, fs: OracleFs | undefined): string | null {
  const lines = recordLines(x, fs);
  if (lines === null || x.real instanceof OracleSetupError) return null;
  mkdirSync(dir, { recursive: true });
  const name = `${basename(x.p.file).replace(/\.(ya?ml|json)$/, '')}.linux-${x.kernel}.${x.real.header.fs}.jsonl`;
  writeFileSync(join(dir, name), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return join(dir, name);
}

/** `daxsim kernel ...`; returns the exit code. */
export function cmdKernel(args: string[]): number {
  const o = parseArgs(args);
  const texts = new Map<string, string>();
  for (const f of o.files) {
    try {
      texts.set(f, readFileSync(f, 'utf8'));
    } catch (e) {
      throw new KernelUsageError(`cannot read ${f}: ${(e as Error).message}`);
    }
  }
  let differs = false, notRun = false;
  for (const kernel of o.kernels) {
    if (kernel !== HOST_KERNEL && GUEST_KERNELS[kernel] === undefined) {
      throw new KernelUsageError(`no kernel ${kernel}`);
    }
    if (kernel === HOST_KERNEL && o.trace === true) console.log(`\n== Linux 6.18 --trace: ${hostTracefs()}; ` +
      'the figures are compared without a trace (use --kernel 5.10, 6.1, 6.12 or 7.2)');
    if (kernel === HOST_KERNEL && !release().startsWith('6.18')) {
      console.log(`\n== Linux 6.18: this machine runs ${release()}, not 6.18; its figures are shown as 6.18's`);
    }
    let outcomes: Outcome[];
    try {
      outcomes = runKernel(o, kernel, texts);
    } catch (e) {
      if (!(e instanceof OracleSetupError)) throw e;
      console.log(`\n== Linux ${kernel}: not run: ${e.message}`);
      notRun = true;
      continue;
    }
    for (const x of outcomes) {
      printOutcome(x);
      printTrace(x);
      if (x.diffs.length > 0 || (x.traceDiffs?.length ?? 0) > 0) differs = true;
      if (x.real instanceof OracleSetupError) notRun = true;
      if (o.record !== undefined) {
        const f = record(o.record, x, o.fs);
        if (f) console.log(`   recorded: ${f}`);
      }
    }
  }
  return differs ? 1 : notRun ? 2 : 0;
}

/** The command with its own errors handled: bad usage, a scenario that cannot run, a missing tool:
 * message and exit 2. */
export function kernelMain(args: string[]): number {
  try {
    return cmdKernel(args);
  } catch (e) {
    if (e instanceof KernelUsageError || e instanceof OracleSetupError || e instanceof NotRunnableError ||
      e instanceof ScenarioError) {
      console.error(`daxsim kernel: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
