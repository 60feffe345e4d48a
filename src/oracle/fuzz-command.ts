// `daxsim fuzz --seed S --count N [--fs F] [--kernel K] [--record DIR] [--shrink N] [--repro DIR]`:
// random programs (fuzz.ts) run on a real kernel and in the model through the same comparison as
// `daxsim kernel` (command.ts runKernel); prints the agreement rate and the differing programs
// grouped by what differs, shrinks some to reproducers (shrink.ts) and writes them as scenarios.
// `daxsim fuzz --replay DIR` replays recorded batches in the model only and prints the rates.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ORACLE_FS, type OracleFs } from './encode.ts';
import { generate, toYaml, type Program } from './fuzz.ts';
import { shrink, signature, type Judge } from './shrink.ts';
import { HOST_KERNEL, KernelUsageError, diskReadAheadKb, modelScenario, recordLines, runKernel, type Outcome,
  type RecordMeta } from './command.ts';
import type { RealRun, RunnerHeader } from './host.ts';
import { modelRun, type StepFigures } from './model-side.ts';
import { compareRun, type Difference } from './compare.ts';
import { OracleSetupError } from './build.ts';
import { profileFor } from './profiles.ts';
import { ScenarioError } from '../scenario/types.ts';
import { stderrProgress } from '../lib/progress.ts';

export const FUZZ_USAGE = `  fuzz --seed S --count N [--fs tmpfs|ext4|ext4-dax|xfs-dax]
       [--kernel 5.10|6.1|6.12|6.18|7.2] [--record DIR] [--shrink N] [--repro DIR]
                      random valid scenarios run on a real kernel and in the model; prints the
                      agreement rate and each differing program; shrinks up to N (default 5) of
                      them to reproducers written as YAML into --repro (default fuzz-repro/)
  fuzz --replay DIR   replays recorded fuzz batches (DIR/*.jsonl) in the model: agreement rates`;

interface FuzzOptions {
  seed: number; count: number; fs: OracleFs; kernel: string; record?: string; shrink: number; repro: string;
  replay?: string;
}

function parseFuzzArgs(args: string[]): FuzzOptions {
  const o: FuzzOptions = { seed: 1, count: 50, fs: 'tmpfs', kernel: HOST_KERNEL, shrink: 5, repro: 'fuzz-repro' };
  const num = (a: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 0) throw new KernelUsageError(`${a} needs a whole number`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    i++;
    if (a === '--seed') o.seed = num(a, v);
    else if (a === '--count') o.count = num(a, v);
    else if (a === '--shrink') o.shrink = num(a, v);
    else if (a === '--kernel') {
      if (v === undefined || !['5.10', '6.1', '6.12', '6.18', '7.2'].includes(v)) {
        throw new KernelUsageError(`--kernel ${v ?? ''}: one of 5.10, 6.1, 6.12, 6.18, 7.2`);
      }
      o.kernel = v;
    } else if (a === '--fs') {
      if (v === undefined || !(ORACLE_FS as readonly string[]).includes(v)) {
        throw new KernelUsageError(`--fs ${v ?? ''}: one of tmpfs, ext4, ext4-dax, xfs-dax`);
      }
      o.fs = v as OracleFs;
    } else if (a === '--record' && v !== undefined) o.record = v;
    else if (a === '--repro' && v !== undefined) o.repro = v;
    else if (a === '--replay' && v !== undefined) o.replay = v;
    else throw new KernelUsageError(`fuzz: unknown option or missing value: ${a}`);
  }
  return o;
}

function fileOf(p: Program): string {
  return `fuzz-${p.fs}-seed${p.seed}.yaml`;
}

/**
 * Runs programs on kernel `kernel` and in the model. A program the model cannot run (a model
 * error, not a difference) is reported in `broken` and not sent to the kernel.
 */
function runPrograms(ps: Program[], kernel: string, fs: OracleFs, broken: Map<Program, string>): Map<Program, Outcome> {
  const ra = diskReadAheadKb(kernel);
  const texts = new Map<string, string>();
  const ok: Program[] = [];
  for (const p of ps) {
    const text = toYaml(p);
    try {
      modelRun(modelScenario(text, fileOf(p), fs, ra), { softDirty: true }, profileFor(kernel).profile);
      texts.set(fileOf(p), text);
      ok.push(p);
    } catch (e) {
      broken.set(p, e instanceof ScenarioError ? `invalid: ${e.message}` : `model error: ${(e as Error).stack}`);
    }
  }
  const out = new Map<Program, Outcome>();
  if (ok.length === 0) return out;
  const outs = runKernel({ files: ok.map(fileOf), kernels: [kernel], fs, record: undefined,
    progress: stderrProgress(1) }, kernel, texts);
  outs.forEach((x, n) => out.set(ok[n]!, x));
  return out;
}

function judgeOn(kernel: string, fs: OracleFs): Judge {
  return (cands) => {
    const res = runPrograms(cands, kernel, fs, new Map());
    return cands.map((c) => {
      const x = res.get(c);
      return x === undefined || x.real instanceof OracleSetupError ? null : x.diffs;
    });
  };
}

function describe(d: Difference): string {
  const cut = (v: string): string => (v.length > 40 ? `${v.slice(0, 37)}...` : v);
  return `step ${d.step} ${d.op} ${d.field}: model ${cut(d.model)}, kernel ${cut(d.kernel)}`;
}

/** Differing programs grouped by the signature of their first difference. */
function groups(differing: Array<{ p: Program; diffs: Difference[] }>): Map<string, Program[]> {
  const g = new Map<string, Program[]>();
  for (const { p, diffs } of differing) {
    const sig = signature(diffs[0]!);
    g.set(sig, [...(g.get(sig) ?? []), p]);
  }
  return g;
}

function cmdFuzz(o: FuzzOptions): number {
  const ps = Array.from({ length: o.count }, (_x, i) => generate(o.seed + i, o.fs));
  const broken = new Map<Program, string>();
  const t0 = Date.now();
  const res = runPrograms(ps, o.kernel, o.fs, broken);
  const { profile, note } = profileFor(o.kernel);
  console.log(`fuzz: ${ps.length} programs (seeds ${o.seed}..${o.seed + o.count - 1}) on Linux ${o.kernel}, ` +
    `${o.fs}, model ${profile}${note ? ` (${note})` : ''}; ${Math.round((Date.now() - t0) / 1000)} s`);
  for (const [p, why] of broken) console.log(`  seed ${p.seed}: NOT RUN (${why.split('\n')[0]})`);
  const differing: Array<{ p: Program; diffs: Difference[] }> = [];
  let ran = 0;
  const lines: string[] = [];
  for (const [p, x] of res) {
    if (x.real instanceof OracleSetupError) {
      console.log(`  seed ${p.seed}: NOT RUN (${x.real.message.split('\n')[0]})`);
      continue;
    }
    ran++;
    if (x.diffs.length > 0) differing.push({ p, diffs: x.diffs });
    for (const l of recordLines(x, o.fs) ?? []) lines.push(JSON.stringify(l));
  }
  console.log(`agreement: ${ran - differing.length}/${ran} programs agree on every figure`);
  for (const [sig, members] of groups(differing)) {
    console.log(`  ${members.length} x ${sig}: seeds ${members.map((p) => p.seed).join(' ')}`);
  }
  for (const { p, diffs } of differing) {
    console.log(`  seed ${p.seed}: ${diffs.length} difference(s); ${describe(diffs[0]!)}`);
  }
  if (o.record !== undefined && lines.length > 0) {
    mkdirSync(o.record, { recursive: true });
    const f = join(o.record, `fuzz-${o.fs}-s${o.seed}-n${o.count}.linux-${o.kernel}.jsonl`);
    writeFileSync(f, `${lines.join('\n')}\n`);
    console.log(`recorded: ${f}`);
  }
  shrinkSome(o, differing);
  return differing.length > 0 ? 1 : 0;
}

/** Shrinks the first program of each difference group (up to o.shrink) and writes the reproducers. */
function shrinkSome(o: FuzzOptions, differing: Array<{ p: Program; diffs: Difference[] }>): void {
  const firsts = [...groups(differing)].map(([sig, members]) => ({ sig, p: members[0]! })).slice(0, o.shrink);
  if (firsts.length === 0) return;
  mkdirSync(o.repro, { recursive: true });
  const host = o.kernel === HOST_KERNEL;
  for (const { sig, p } of firsts) {
    const small = shrink(p, sig, judgeOn(o.kernel, o.fs), host ? 400 : 8, host ? 4 : 1000);
    const f = join(o.repro, `fuzz-${o.kernel}-${o.fs}-seed${p.seed}.yaml`);
    writeFileSync(f, toYaml(small, `shrunk from ${p.steps.length} to ${small.steps.length} steps; ` +
      `on Linux ${o.kernel} ${o.fs} the model differs: ${sig}`));
    console.log(`reproducer (${sig}): ${f} (${small.steps.length} steps)`);
  }
}

/** One recorded run of a batch file: meta, real run. */
export interface RecordedRun { meta: RecordMeta; real: RealRun }

/** Splits a batch file (runs one after another, each meta .. end) into its runs. */
export function loadBatch(text: string): RecordedRun[] {
  const out: RecordedRun[] = [];
  let cur: { meta?: RecordMeta; header?: RunnerHeader; steps: StepFigures[] } = { steps: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (o['meta'] === 1) cur = { meta: o as unknown as RecordMeta, steps: [] };
    else if (o['hdr'] === 1) cur.header = o as unknown as RunnerHeader;
    else if (typeof o['i'] === 'number') cur.steps.push(o as unknown as StepFigures);
    else if (o['end'] === true) {
      if (!cur.meta || !cur.header) throw new Error('fuzz batch: an end line without meta and header');
      out.push({ meta: cur.meta, real: { header: cur.header, steps: cur.steps, warnings: [] } });
      cur = { steps: [] };
    }
  }
  return out;
}

/** The model's differences from one recorded run. */
export function replayRun(x: RecordedRun): Difference[] {
  const m = x.meta;
  const s = modelScenario(m.text, m.scenario, m.fsOverride ?? undefined, m.readAheadKb ?? undefined);
  const model = modelRun(s, { softDirty: x.real.header.soft_dirty }, m.profile).steps;
  return compareRun(s, model, x.real);
}

function cmdReplay(dir: string): number {
  const rate = new Map<string, { n: number; ok: number; sigs: Map<string, number> }>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const x of loadBatch(readFileSync(join(dir, f), 'utf8'))) {
      const key = `Linux ${x.meta.kernel} ${x.meta.fsOverride ?? x.meta.fs} (model ${x.meta.profile})`;
      const r = rate.get(key) ?? { n: 0, ok: 0, sigs: new Map() };
      const diffs = replayRun(x);
      r.n++;
      if (diffs.length === 0) r.ok++;
      for (const sig of new Set(diffs.map(signature))) r.sigs.set(sig, (r.sigs.get(sig) ?? 0) + 1);
      rate.set(key, r);
    }
  }
  for (const [k, r] of rate) {
    console.log(`${k}: ${r.ok}/${r.n} agree (${(100 * r.ok / r.n).toFixed(1)}%)`);
    for (const [sig, n] of [...r.sigs].sort((a, b) => b[1] - a[1])) console.log(`    ${n} x ${sig}`);
  }
  return 0;
}

/** `daxsim fuzz ...`; returns the exit code (usage errors: message and 2). */
export function fuzzMain(args: string[]): number {
  try {
    const o = parseFuzzArgs(args);
    return o.replay !== undefined ? cmdReplay(o.replay) : cmdFuzz(o);
  } catch (e) {
    if (e instanceof KernelUsageError || e instanceof OracleSetupError) {
      console.error(`daxsim fuzz: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
