#!/usr/bin/env node
// The daxsim command line: run scenario files, list kernel profiles.
// Exit codes: 0 success, 1 an `expect` failed, 2 bad usage or a scenario that cannot be run,
// 3 an internal error of the model (printed with its stack, as it is a bug).

import { profiles, resolveProfile } from '../kernel/profiles.ts';
import { formatProfile, ProfileError } from '../kernel/knobs.ts';
import { loadScenarioFile } from '../scenario/load.ts';
import { runScenario, type Report, type RunResult, type StepResult } from '../scenario/run.ts';
import { ScenarioError } from '../scenario/types.ts';
import { experiments, rowOk } from '../reproduce/experiments.ts';
import { formatExperiment, experimentSvg } from '../reproduce/report.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { explore, replay, CrashInputError, CrashProgramError, type CrashProgram, type ExploreResult }
  from '../crash/explore.ts';
import { exitCodeOf, formatExplore, formatReplay } from '../crash/report.ts';
import { loadCrashPrograms as loadPrograms, CrashLoadError } from '../crash/load.ts';
import { exploreOnWorkers, mergeShards, parseShard } from '../crash/shard.ts';
import type { Machine } from '../api/machine.ts';
import type { FaultTraceEvent } from '../kernel/kernel.ts';
import { kernelMain, KERNEL_USAGE } from '../oracle/command.ts';
import { viewMain, VIEW_USAGE, ViewUsageError } from './view.ts';
import { fuzzMain, FUZZ_USAGE } from '../oracle/fuzz-command.ts';

const USAGE = `usage: daxsim <command> [arguments]

commands:
  run FILE [--json]   run a scenario file (YAML or JSON); --json prints one JSON object
  run FILE --trace [--trace-limit N]
                      also print every page fault as it happens (time, task, address, major or
                      minor, page-table entries installed, latency, file page); first N (1000)
  profiles [NAME...]  list the kernel profiles a scenario can name in kernel.profile; with names,
                      every knob of each profile with its value and meaning, by subsystem
  reproduce [NAME...] [--json] [--plot DIR]
                      re-run the seed experiments (kani-2014, kara-2017, zwisler-2017,
                      shutemov-2014, wilcox-2014) beside the published figures; exit 1 when a
                      held-out figure leaves its tolerance
  crash FILE [--program NAME] [--max-states N] [--seed S] [--all] [--allow-partial] [--json]
        [--workers N] [--shard I/N] [--merge A.json,B.json,...]
                      explore every crash state of the programs a TypeScript module exports
                      (default export: a CrashProgram or a list), or of a YAML/JSON scenario
                      (built-in invariants); exit 1 when an invariant breaks, 4 when not every
                      state was checked (sampled points, --max-states; 0 with --allow-partial)
                      or none was; --all: every distinct failure, by invariant and source line
  crash FILE.ts --program NAME --replay POINT:K1,K2,...
                      rebuild one crash state and show the recovered files
${KERNEL_USAGE}
${VIEW_USAGE}
${FUZZ_USAGE}
  help                show this text

exit codes: 0 ok, 1 an expect failed (crash: an invariant broke), 2 bad usage or invalid scenario,
  3 internal error, 4 crash: exploration incomplete or empty`;

class UsageError extends Error {}

function formatOutcome(s: StepResult): string {
  if (s.signal !== undefined) return `${s.signal.signal} at page ${s.signal.page} (0x${s.signal.addr.toString(16)})`;
  if (typeof s.result !== 'number') return JSON.stringify(s.result);
  if (s.errno !== undefined) return `-1 ${s.errno}`;
  if (s.op === 'mmap') return `0x${s.result.toString(16)}`;
  return s.data === undefined ? String(s.result) : `${s.result} data ${s.data}`;
}

function nonZero(rec: Record<string, number>): string[] {
  return Object.entries(rec).filter(([, v]) => v !== 0).map(([k, v]) => `${k}=${v}`);
}

function printReport(name: string, r: Report): void {
  console.log(`\nreport ${name}:`);
  const line = (label: string, items: string[]): void => {
    if (items.length > 0) console.log(`  ${label.padEnd(8)} ${items.join(' ')}`);
  };
  line('vmstat', nonZero(r.vmstat));
  line('rusage', nonZero(r.rusage));
  line('events', nonZero(r.events));
  line('meminfo', nonZero(r.meminfo).map((x) => `${x}kB`));
  for (const [map, f] of Object.entries(r.smaps)) {
    const fields = Object.entries(f).filter(([, v]) => v !== 0 && v !== '');
    line(`smaps ${map}`, fields.map(([k, v]) => `${k}=${typeof v === 'number' ? `${v}kB` : JSON.stringify(v)}`));
  }
  for (const [path, f] of Object.entries(r.files)) {
    line('file', [`${path} sizeBytes=${f.sizeBytes} blocks=${f.blocks}`]);
  }
}

function printTable(r: RunResult): void {
  console.log(`${r.name} (profile ${r.profile})\n`);
  const rows = r.steps.map((s) => [String(s.index), s.op, formatOutcome(s), String(s.simNs)]);
  const head = ['step', 'op', 'result', 'simNs'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const cell = (c: string, i: number): string => (i === 3 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0));
  const fmt = (row: string[]): string => row.map(cell).join('  ');
  console.log(fmt(head));
  for (const row of rows) console.log(fmt(row));
  for (const [name, rep] of Object.entries(r.reports)) printReport(name, rep);
}

interface RunArgs { file: string; json: boolean; trace: boolean; traceLimit: number }

function parseRunArgs(args: string[]): RunArgs {
  let json = false, trace = false, traceLimit = 1000;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--trace') trace = true;
    else if (a === '--trace-limit') {
      const v = args[++i];
      if (v === undefined || !/^\d+$/.test(v)) {
        const got = v === undefined ? 'nothing' : JSON.stringify(v);
        throw new UsageError(`run: --trace-limit needs a whole number, got ${got}`);
      }
      traceLimit = Number(v);
      trace = true;
    } else if (a.startsWith('-')) {
      throw new UsageError(`run: unknown option ${a} (options: --json, --trace, --trace-limit N)`);
    } else rest.push(a);
  }
  if (rest.length !== 1) {
    throw new UsageError(`run: expected exactly one scenario FILE, got ${rest.length === 0 ? 'none' : rest.join(' ')}`);
  }
  if (trace && json) throw new UsageError('run: --trace prints text; it cannot be combined with --json');
  return { file: rest[0] ?? '', json, trace, traceLimit };
}

/** One `--trace` line: time, task, access, outcome, entries installed, latency, file page. */
function formatFault(e: FaultTraceEvent & { where: string }): string {
  const sig = e.signal === 7 ? 'SIGBUS' : e.signal === 11 ? 'SIGSEGV' : e.signal === 9 ? 'SIGKILL' : '';
  const pmd = e.pmdLeaves > 0 ? `(${e.pmdLeaves} PMD) ` : '';
  const mapped = e.entries === 0 ? 'no new entry' : `+${e.entries} ${pmd}entr${e.entries === 1 ? 'y' : 'ies'}`;
  const start = (e.startNs / 1000).toFixed(3).padStart(12);
  const latency = ((e.endNs - e.startNs) / 1000).toFixed(2).padStart(8);
  return `fault ${start} us  ${e.task.padEnd(8)} ${e.write ? 'write' : 'read '} 0x${e.addr.toString(16)}  ` +
    `${(sig || e.counted).padEnd(7)} ${mapped.padEnd(20)} ${latency} us  ${e.where}`;
}

function cmdRun(args: string[]): number {
  const { file, json, trace, traceLimit } = parseRunArgs(args);
  let traced = 0;
  const onMachine = trace ? (m: Machine) => m.traceFaults((e) => {
    if (traced++ >= traceLimit) return;
    console.log(formatFault(e));
  }) : undefined;
  const result = runScenario(loadScenarioFile(file), onMachine ? { onMachine } : {});
  if (trace && traced > traceLimit) {
    console.log(`... ${traced - traceLimit} more faults not shown (--trace-limit ${traceLimit})`);
  }
  if (json) {
    const { name, profile, reports, steps, failures } = result;
    const shown = steps.map(({ bytes: _bytes, ...rest }) => rest);
    console.log(JSON.stringify({ name, profile, reports, steps: shown, failures }));
  } else {
    printTable(result);
  }
  if (result.failures.length > 0) {
    console.error(`\n${result.failures.length} expectation(s) failed:`);
    for (const f of result.failures) console.error(`  ${f}`);
    return 1;
  }
  return 0;
}

/** `profiles`: one line per profile; `profiles NAME...`: every knob of each, grouped by subsystem. */
function cmdProfiles(args: string[]): number {
  if (args.length === 0) {
    const width = Math.max(...Object.keys(profiles).map((n) => n.length));
    for (const [name, p] of Object.entries(profiles)) console.log(`${name.padEnd(width)}  ${p.description}`);
    return 0;
  }
  for (const name of args) console.log(formatProfile(resolveProfile(name)));
  return 0;
}

function cmdReproduce(args: string[]): number {
  let json = false;
  let plotDir: string | null = null;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--plot') {
      plotDir = args[++i] ?? null;
      if (!plotDir) throw new UsageError('--plot needs a directory');
    } else if (a.startsWith('-')) throw new UsageError(`unknown option "${a}"`);
    else if (!(a in experiments)) {
      throw new UsageError(`unknown experiment "${a}" (known: ${Object.keys(experiments).join(', ')})`);
    }
    else names.push(a);
  }
  const run = names.length ? names : Object.keys(experiments);
  const results = run.map((n) => experiments[n]!());
  const failed = results.flatMap((e) =>
    e.rows.filter((r) => r.role === 'held-out' && !rowOk(r)).map((r) => `${e.name}: ${r.metric}`));
  if (plotDir) {
    mkdirSync(plotDir, { recursive: true });
    for (const e of results) writeFileSync(join(plotDir, `${e.name}.svg`), experimentSvg(e));
  }
  if (json) console.log(JSON.stringify({ experiments: results, heldOutOutsideTolerance: failed }, null, 2));
  else {
    for (const e of results) console.log(formatExperiment(e) + '\n');
    console.log(failed.length
      ? `held-out figures outside their tolerance (${failed.length}):\n  ${failed.join('\n  ')}`
      : 'every held-out figure is within its tolerance');
    if (plotDir) console.log(`plots written to ${plotDir}/`);
  }
  return failed.length ? 1 : 0;
}

interface CrashArgs { file: string; json: boolean; opt: Record<string, string>; flags: Set<string> }

const CRASH_VALUE_OPTIONS = ['--program', '--max-states', '--seed', '--replay', '--shard', '--workers', '--merge'];

function parseCrashArgs(args: string[]): CrashArgs {
  const opt: Record<string, string> = {};
  let file: string | null = null;
  let json = false;
  const flags = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') json = true;
    else if (a === '--all' || a === '--allow-partial') flags.add(a);
    else if (CRASH_VALUE_OPTIONS.includes(a)) {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      opt[a] = v;
    } else if (a.startsWith('-')) throw new UsageError(`unknown option "${a}"`);
    else if (file === null) file = a;
    else throw new UsageError(`unexpected argument "${a}"`);
  }
  if (file === null) throw new UsageError('crash needs a FILE.ts exporting crash programs');
  return { file, json, opt, flags };
}

/** The value of a numeric option, or undefined when it was not given. */
function optionNumber(opt: Record<string, string>, k: string): number | undefined {
  if (opt[k] === undefined) return undefined;
  const n = Number(opt[k]);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${k}: expected a non-negative integer, got "${opt[k]}"`);
  return n;
}

/** The crash programs of `file` (src/crash/load.ts), with a bad file as a usage error. */
async function loadCrashPrograms(file: string): Promise<CrashProgram[]> {
  try {
    return await loadPrograms(file);
  } catch (e) {
    if (e instanceof CrashLoadError) throw new UsageError(e.message);
    throw e;
  }
}

/** A shard's result of program `name` from a `--shard I/N --json` output file. */
function readShard(file: string, name: string): ExploreResult {
  let all: ExploreResult[];
  try {
    all = JSON.parse(readFileSync(file, 'utf8')) as ExploreResult[];
  } catch (e) {
    throw new UsageError(`--merge: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = Array.isArray(all) ? all.find((x) => x.program === name) : undefined;
  if (!r?.shard) throw new UsageError(`--merge: ${file} holds no shard result of program ${name}`);
  return r;
}

/** `crash --replay POINT:K1,K2,...`: rebuild one crash state of one program and describe it. */
function cmdReplay(prog: CrashProgram, spec: string, json: boolean): number {
  const m = /^(\d+):(\d+(?:,\d+)*)?$/.exec(spec);
  if (!m) throw new UsageError(`--replay: expected POINT:K1,K2,... got "${spec}"`);
  const r = replay(prog, Number(m[1]), m[2] ? m[2].split(',').map(Number) : []);
  if (json) console.log(JSON.stringify(r, null, 2));
  else for (const l of formatReplay(Number(m[1]), r)) console.log(l);
  return r.violation ? 1 : 0;
}

async function cmdCrash(args: string[]): Promise<number> {
  const { file, json, opt, flags } = parseCrashArgs(args);
  const all = await loadCrashPrograms(file);
  const progs = opt['--program'] ? all.filter((p) => p.name === opt['--program']) : all;
  if (!progs.length) {
    throw new UsageError(`no program "${opt['--program']}" in ${file} (has: ${all.map((p) => p.name).join(', ')})`);
  }
  if (opt['--replay'] !== undefined) {
    if (progs.length !== 1) throw new UsageError('--replay needs --program NAME');
    return cmdReplay(progs[0]!, opt['--replay'], json);
  }
  const maxStates = optionNumber(opt, '--max-states');
  const seed = optionNumber(opt, '--seed');
  const allFailures = flags.has('--all');
  const results = [];
  const shard = opt['--shard'] !== undefined ? parseShard(opt['--shard']) : undefined;
  const workers = optionNumber(opt, '--workers') ?? 1;
  const merge = opt['--merge']?.split(',');
  for (const p of progs) {
    const o = { maxStates, seed, stopAtFirstFailure: !allFailures, shard };
    const r = merge ? mergeShards(merge.map((f) => readShard(f, p.name)), !allFailures, maxStates)
      : workers > 1 && !shard ? await exploreOnWorkers(file, p.name, o, workers) : explore(p, o);
    results.push(r);
    if (!json) for (const l of formatExplore(file, p, r, allFailures)) console.log(l);
  }
  if (json) console.log(JSON.stringify(results, null, 2));
  return exitCodeOf(results, flags.has('--allow-partial'));
}

function main(argv: string[]): number | Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'run':
        return cmdRun(args);
      case 'profiles':
        return cmdProfiles(args);
      case 'reproduce':
        return cmdReproduce(args);
      case 'crash':
        return cmdCrash(args).catch((e: unknown) => report(e));
      case 'kernel':
        return kernelMain(args);
      case 'view':
        return viewMain(args).catch((e: unknown) => report(e));
      case 'fuzz':
        return fuzzMain(args);
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
      case undefined:
        throw new UsageError('no command given');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    return report(e);
  }
}

/** Exit code and message for an error: usage and scenario errors are the user's; anything else is a bug. */
function report(e: unknown): number {
  if (e instanceof UsageError || e instanceof ViewUsageError) {
    console.error(`daxsim: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (e instanceof ScenarioError || e instanceof CrashInputError || e instanceof ProfileError
    || e instanceof CrashProgramError) {
    console.error(`daxsim: ${e.message}`);
    return 2;
  }
  console.error('daxsim: internal error (a bug in the model):');
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  return 3;
}

void Promise.resolve(main(process.argv.slice(2))).then((code) => { process.exitCode = code; });
