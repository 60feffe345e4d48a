// `daxsim run FILE`: one scenario, one or many variants (--profile a,b,c, --set knob=v1,v2,
// --shard i/n), as a table or deterministic JSON, with --breakdown and --trace.

import { readFileSync, writeFileSync } from 'node:fs';
import { parseCommand, UsageError, wholeNumber, daxsimVersion, type CommandSpec } from './args.ts';
import { expandVariants, parseShard, shardOf } from './variants.ts';
import { stderrProgress } from '../lib/progress.ts';
import { runVariant, type TraceFormat, type VariantOutcome, type VariantRequest } from './run-variant.ts';
import { runPool } from './run-pool.ts';
import { SCHEMA_VERSION, UNITS, scenarioHash, type VariantJson } from './result-json.ts';
import { formatSideBySide, formatVariant } from './run-output.ts';
import { formatBreakdown } from '../trace/breakdown.ts';
import { storeRuns } from '../store/runs.ts';
import { checkExpectCounters } from '../scenario/schema.ts';

export const RUN: CommandSpec = {
  name: 'run',
  usage: `usage: daxsim run FILE [options]

  run a scenario file (YAML or JSON) and print its steps and reports

options:
  --json                 one JSON object (schemaVersion ${SCHEMA_VERSION}): byte-identical for the same input
  --host-times           add each step's host wall time (hostWallNs) to the JSON
  --profile A[,B,...]    run on these kernel profiles instead of kernel.profile (one column each)
  --set KNOB=V[,V2,...]  override a knob (repeatable); several values sweep it (one column each)
  --shard I/N            run only variants I, I+N, I+2N, ... (1 <= I <= N) of the sweep; join with daxsim merge
  --threads N            worker threads for several variants (default: the host's CPUs)
  --breakdown            where the simulated time goes, per step and per fault kind (JSON: breakdown)
  --trace [FORMAT]       daxsim (default): one line per fault; ftrace: trace-cmd report lines of the
                         profile's tracepoints; perfetto: Chrome trace-event JSON (needs --trace-out)
  --trace-limit N        first N trace lines (default 1000; ftrace and daxsim)
  --trace-out FILE       write the trace to FILE (ftrace with --json: default stderr)
  --store FILE.db        keep the run in a sqlite run store (daxsim runs, daxsim compare)
  -h, --help             this text`,
  options: {
    json: { type: 'boolean' }, 'host-times': { type: 'boolean' }, profile: { type: 'string' },
    set: { type: 'string', multiple: true }, shard: { type: 'string' }, threads: { type: 'string' },
    breakdown: { type: 'boolean' }, trace: { type: 'string' }, 'trace-limit': { type: 'string' },
    'trace-out': { type: 'string' }, store: { type: 'string' },
  },
};

const TRACE_FORMATS: readonly TraceFormat[] = ['daxsim', 'ftrace', 'perfetto'];

/** `--trace` alone means the daxsim format: give parseArgs the value it needs. */
function normaliseTrace(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--trace' && !TRACE_FORMATS.includes(args[i + 1] as TraceFormat)) out.push('--trace=daxsim');
    else out.push(a);
  }
  return out;
}

interface RunArgs {
  file: string; json: boolean; hostTimes: boolean; breakdown: boolean; threads: number | undefined;
  trace: { format: TraceFormat; limit: number } | null; traceOut: string | undefined; store: string | undefined;
  reqs: VariantRequest[]; single: boolean; shard: { index: number; count: number } | null;
}

/** The run command's arguments as variant requests (exported for the progress test). */
export function parseRunArgs(args: string[]): RunArgs {
  const { values: v, positionals } = parseCommand(RUN, normaliseTrace(args));
  const u = RUN.usage;
  if (positionals.length !== 1) {
    const got = positionals.length === 0 ? 'none' : positionals.join(' ');
    throw new UsageError(`run: expected exactly one scenario FILE, got ${got}`, u);
  }
  const json = v.json === true;
  const limitGiven = v['trace-limit'] !== undefined;
  const limit = wholeNumber(RUN, v['trace-limit'], 'trace-limit', 1000);
  let format = v.trace as string | undefined;
  if (format === undefined && limitGiven) format = 'daxsim';
  if (format !== undefined && !TRACE_FORMATS.includes(format as TraceFormat)) {
    throw new UsageError(`run: --trace ${JSON.stringify(format)}: one of ${TRACE_FORMATS.join(', ')}`, u);
  }
  const traceOut = v['trace-out'] as string | undefined;
  if (format === 'daxsim' && json) {
    throw new UsageError('run: --trace prints text; it cannot be combined with --json', u);
  }
  if (format === 'perfetto' && traceOut === undefined) {
    throw new UsageError('run: --trace perfetto needs --trace-out FILE', u);
  }
  if (traceOut !== undefined && format === undefined) throw new UsageError('run: --trace-out needs --trace FORMAT', u);
  const shard = parseShard(v.shard as string | undefined, u);
  const all = expandVariants(v.profile as string | undefined, (v.set as string[] | undefined) ?? [], u);
  const variants = shardOf(all, shard);
  const single = shard === null && all.length === 1;
  const trace = format === undefined ? null : { format: format as TraceFormat, limit };
  if (trace !== null && variants.length > 1) {
    throw new UsageError('run: --trace takes one variant (one profile, no sweep)', u);
  }
  const threads = v.threads === undefined ? undefined : wholeNumber(RUN, v.threads, 'threads', 1);
  const breakdown = v.breakdown === true, hostTimes = v['host-times'] === true;
  const file = positionals[0]!;
  const reqs = variants.map((variant) => ({ file, variant, breakdown, hostTimes, trace }));
  const store = v.store as string | undefined;
  return { file, json, hostTimes, breakdown, threads, trace, traceOut, store, reqs, single, shard };
}

/** The JSON document of a run: one variant flat (as before variants existed), several keyed by variant. */
export function runDocument(a: { file: string; single: boolean; shard: RunArgs['shard'] }, text: string,
  outcomes: VariantOutcome[]): Record<string, unknown> {
  const head = { schemaVersion: SCHEMA_VERSION, daxsimVersion: daxsimVersion(),
    scenario: { file: a.file, sha256: scenarioHash(text) }, units: UNITS };
  if (a.single) return { ...head, ...outcomes[0]!.json };
  const variants: Record<string, VariantJson> = {};
  for (const o of outcomes) variants[o.key] = o.json;
  return { ...head, ...(a.shard ? { shard: a.shard } : {}), variantOrder: outcomes.map((o) => o.key), variants };
}

function printText(a: RunArgs, outcomes: VariantOutcome[]): void {
  if (outcomes.length === 0) {
    console.log('no variant in this shard');
    return;
  }
  if (outcomes.length === 1 && a.single) {
    const j = outcomes[0]!.json;
    console.log(formatVariant(j));
    if (j.breakdown) console.log(`\n${formatBreakdown(j.breakdown)}`);
    return;
  }
  const name = outcomes[0]!.json.name;
  console.log(formatSideBySide(name, outcomes.map((o) => o.json), outcomes.map((o) => o.key || o.json.profile)));
}

/** Run the variants: one in this thread (its text trace streamed), several on worker threads. */
async function execute(a: RunArgs): Promise<VariantOutcome[]> {
  if (a.reqs.length !== 1) return runPool(a.reqs, a.threads, stderrProgress(1));
  const t = a.trace;
  const toStdout = t !== null && t.format !== 'perfetto' && a.traceOut === undefined && !a.json;
  const toStderr = t !== null && t.format === 'ftrace' && a.traceOut === undefined && a.json;
  const emit = toStdout ? (l: string) => console.log(l) : toStderr ? (l: string) => console.error(l) : null;
  // The progress line shares stderr with nothing else (an ftrace on stderr would interleave with it).
  return [runVariant(a.reqs[0]!, emit, toStderr ? null : stderrProgress())];
}

export async function cmdRun(args: string[]): Promise<number> {
  const a = parseRunArgs(args);
  checkExpectCounters(a.file);
  const outcomes = await execute(a);
  const o = outcomes[0];
  if (a.trace !== null && o !== undefined) {
    if (a.trace.format === 'perfetto') writeFileSync(a.traceOut!, JSON.stringify(o.perfetto));
    else if (a.traceOut !== undefined) writeFileSync(a.traceOut, o.traceLines.map((l) => `${l}\n`).join(''));
    if (o.traceDropped > 0) {
      const what = a.trace.format === 'daxsim' ? 'faults' : 'trace lines';
      const msg = `... ${o.traceDropped} more ${what} not shown (--trace-limit ${a.trace.limit})`;
      if (a.json) console.error(msg);
      else console.log(msg);
    }
  }
  const text = readFileSync(a.file, 'utf8');
  if (a.json) console.log(JSON.stringify(runDocument(a, text, outcomes)));
  else printText(a, outcomes);
  if (a.store !== undefined) storeRuns(a.store, a.file, text, outcomes.map((x) => x.json));
  const failures = outcomes.flatMap((x) => x.json.failures.map((f) => (outcomes.length > 1 ? `[${x.key}] ${f}` : f)));
  if (failures.length > 0) {
    console.error(`\n${failures.length} expectation(s) failed:`);
    for (const f of failures) console.error(`  ${f}`);
    return 1;
  }
  return 0;
}
