// `daxsim crash FILE`: explore the crash states of TypeScript crash programs or a scenario, on one
// thread, on worker threads (--workers N), or as one shard of many (--shard I/N, joined by --merge).

import { readFileSync } from 'node:fs';
import { replay, explore, type CrashProgram, type ExploreResult } from '../crash/explore.ts';
import { exitCodeOf, formatExplore, formatReplay } from '../crash/report.ts';
import { loadCrashPrograms as loadPrograms, CrashLoadError } from '../crash/load.ts';
import { exploreOnWorkers, mergeShards, parseShard } from '../crash/shard.ts';
import { parseCommand, UsageError, type CommandSpec } from './args.ts';
import { stderrProgress } from '../lib/progress.ts';

export const CRASH: CommandSpec = {
  name: 'crash',
  usage: `usage: daxsim crash FILE [--program NAME] [--max-states N] [--seed S] [--json] [--all] [--allow-partial]
                   [--workers N | --shard I/N | --merge A.json,B.json,...] [--no-recovery-crashes]
       daxsim crash FILE.ts --program NAME --replay POINT:K1,K2,...

  explore every crash state of the programs a TypeScript module exports (default export: a
  CrashProgram or a list), or of a YAML/JSON scenario (built-in invariants). Exit 0 when every
  state was checked and holds, 1 when an invariant breaks, 4 when not every state was checked
  (sampled points, --max-states; 0 with --allow-partial) or none was; --all lists every distinct
  failure by invariant and source line; --replay rebuilds one crash state and shows the files.
  A program's recover(view) is also checked after a power failure during recovery (after each of
  its writes, recovery running again) unless --no-recovery-crashes`,
  options: {
    program: { type: 'string' }, 'max-states': { type: 'string' }, seed: { type: 'string' },
    replay: { type: 'string' }, shard: { type: 'string' }, workers: { type: 'string' }, merge: { type: 'string' },
    json: { type: 'boolean' }, all: { type: 'boolean' }, 'allow-partial': { type: 'boolean' },
    'no-recovery-crashes': { type: 'boolean' },
  },
};

interface CrashArgs { file: string; json: boolean; opt: Record<string, string>; flags: Set<string> }

function parseCrashArgs(args: string[]): CrashArgs {
  const p = parseCommand(CRASH, args);
  const opt: Record<string, string> = {};
  const flags = new Set<string>();
  for (const [k, v] of Object.entries(p.values)) {
    if (typeof v === 'string') opt[`--${k}`] = v;
    else if (v === true && (k === 'all' || k === 'allow-partial' || k === 'no-recovery-crashes')) flags.add(`--${k}`);
  }
  if (p.positionals.length === 0) throw new UsageError('crash needs a FILE.ts exporting crash programs', CRASH.usage);
  if (p.positionals.length > 1) throw new UsageError(`unexpected argument "${p.positionals[1]}"`, CRASH.usage);
  return { file: p.positionals[0]!, json: p.values['json'] === true, opt, flags };
}

/** The value of a numeric option, or undefined when it was not given. */
function optionNumber(opt: Record<string, string>, k: string): number | undefined {
  if (opt[k] === undefined) return undefined;
  const n = Number(opt[k]);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`${k}: expected a non-negative integer, got "${opt[k]}"`, CRASH.usage);
  }
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
function cmdReplay(prog: CrashProgram, spec: string, json: boolean, recoveryCrashes: boolean): number {
  const m = /^(\d+):(\d+(?:,\d+)*)?$/.exec(spec);
  if (!m) throw new UsageError(`--replay: expected POINT:K1,K2,... got "${spec}"`);
  const r = replay(prog, Number(m[1]), m[2] ? m[2].split(',').map(Number) : [], { recoveryCrashes });
  if (json) console.log(JSON.stringify(r, null, 2));
  else for (const l of formatReplay(Number(m[1]), r)) console.log(l);
  return r.violation ? 1 : 0;
}

export async function cmdCrash(args: string[]): Promise<number> {
  const { file, json, opt, flags } = parseCrashArgs(args);
  const all = await loadCrashPrograms(file);
  const progs = opt['--program'] ? all.filter((p) => p.name === opt['--program']) : all;
  if (!progs.length) {
    throw new UsageError(`no program "${opt['--program']}" in ${file} (has: ${all.map((p) => p.name).join(', ')})`);
  }
  if (opt['--replay'] !== undefined) {
    if (progs.length !== 1) throw new UsageError('--replay needs --program NAME');
    return cmdReplay(progs[0]!, opt['--replay'], json, !flags.has('--no-recovery-crashes'));
  }
  const maxStates = optionNumber(opt, '--max-states');
  const seed = optionNumber(opt, '--seed');
  const allFailures = flags.has('--all');
  const results = [];
  const shard = opt['--shard'] !== undefined ? parseShard(opt['--shard']) : undefined;
  const workers = optionNumber(opt, '--workers') ?? 1;
  const merge = opt['--merge']?.split(',');
  for (const p of progs) {
    const o = { maxStates, seed, stopAtFirstFailure: !allFailures, shard,
      recoveryCrashes: !flags.has('--no-recovery-crashes') };
    const r = merge ? mergeShards(merge.map((f) => readShard(f, p.name)), !allFailures, maxStates)
      : workers > 1 && !shard ? await exploreOnWorkers(file, p.name, o, workers)
        : explore(p, { ...o, progress: stderrProgress(1) });
    results.push(r);
    if (!json) for (const l of formatExplore(file, p, r, allFailures)) console.log(l);
  }
  if (json) console.log(JSON.stringify(results, null, 2));
  return exitCodeOf(results, flags.has('--allow-partial'));
}
