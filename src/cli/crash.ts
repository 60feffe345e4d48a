// `daxsim crash FILE`: explore the crash states of TypeScript crash programs or a scenario.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadScenarioFile } from '../scenario/parse.ts';
import { explore, replay, type CrashProgram, type ExploreResult } from '../crash/explore.ts';
import { parseCommand, UsageError, type CommandSpec } from './args.ts';

export const CRASH: CommandSpec = {
  name: 'crash',
  usage: `usage: daxsim crash FILE [--program NAME] [--max-states N] [--seed S] [--json]
       daxsim crash FILE.ts --program NAME --replay POINT:K1,K2,...

  explore every crash state of the programs a TypeScript module exports (default export: a
  CrashProgram or a list), or of a YAML/JSON scenario (built-in invariants); exit 1 when an
  invariant breaks; --replay rebuilds one crash state and shows the recovered files`,
  options: {
    program: { type: 'string' }, 'max-states': { type: 'string' }, seed: { type: 'string' },
    replay: { type: 'string' }, json: { type: 'boolean' },
  },
};

interface CrashArgs { file: string; json: boolean; opt: Record<string, string> }

function parseCrashArgs(args: string[]): CrashArgs {
  const { values, positionals } = parseCommand(CRASH, args);
  if (positionals.length === 0) throw new UsageError('crash needs a FILE.ts exporting crash programs', CRASH.usage);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`, CRASH.usage);
  const opt: Record<string, string> = {};
  for (const k of ['program', 'max-states', 'seed', 'replay']) {
    const v = values[k];
    if (typeof v === 'string') opt[`--${k}`] = v;
  }
  return { file: positionals[0]!, json: values.json === true, opt };
}

/** The value of a numeric option, or undefined when it was not given. */
function optionNumber(opt: Record<string, string>, k: string): number | undefined {
  if (opt[k] === undefined) return undefined;
  const n = Number(opt[k]);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${k}: expected a non-negative integer, got "${opt[k]}"`);
  return n;
}

/** The crash programs of `file`: a YAML/JSON scenario, or the default export of a TypeScript module. */
async function loadCrashPrograms(file: string): Promise<CrashProgram[]> {
  let all: CrashProgram[];
  if (/\.(ya?ml|json)$/.test(file)) {
    // A scenario: run step by step, checked against the built-in invariants.
    const sc = loadScenarioFile(file);
    const profile = sc.kernel.profile ?? 'linux-6.18';
    all = [{ name: sc.name ?? file, description: `scenario ${file}`, profile, run: () => {}, scenario: sc }];
  } else {
    let mod: { default?: unknown };
    try {
      mod = await import(pathToFileURL(resolve(file)).href) as { default?: unknown };
    } catch (e) {
      throw new UsageError(`cannot load ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    all = (Array.isArray(mod.default) ? mod.default : [mod.default]) as CrashProgram[];
  }
  if (!all.length || all.some((p) => !p || typeof p.run !== 'function' || typeof p.name !== 'string')) {
    throw new UsageError(
      `${file}: the default export must be a crash program ({ name, description, run }) or a list of them`);
  }
  return all;
}

/** `crash --replay POINT:K1,K2,...`: rebuild one crash state of one program and describe it. */
function cmdReplay(prog: CrashProgram, spec: string, json: boolean): number {
  const m = /^(\d+):(\d+(?:,\d+)*)?$/.exec(spec);
  if (!m) throw new UsageError(`--replay: expected POINT:K1,K2,... got "${spec}"`);
  const r = replay(prog, Number(m[1]), m[2] ? m[2].split(',').map(Number) : []);
  if (json) {
    console.log(JSON.stringify(r, null, 2));
    return r.violation ? 1 : 0;
  }
  console.log(`crash point ${m[1]} (${r.where}); journal committed up to tid ${r.committedTid}`);
  for (const l of r.lines) {
    console.log(`  line ${l.line} of block ${l.block}: ${l.kept} of ${l.stores} stores reached the media`);
  }
  for (const [p, f] of Object.entries(r.files)) {
    console.log(`  ${p}: size ${f.sizeBytes}, first bytes [${f.head.join(',')}]`);
  }
  console.log(r.violation ? `  BROKEN ${r.violation[0]}: ${r.violation[1]}` : '  every invariant holds');
  return r.violation ? 1 : 0;
}

/** The text summary of one program's exploration, with a replay command per failure. */
function printExplore(file: string, p: CrashProgram, r: ExploreResult): void {
  const points = `${r.crashPoints} crash points, ${r.states} states ` +
    `(${r.exhaustivePoints} points exhaustive, ${r.sampledPoints} sampled)`;
  const stopped = r.truncated ? ', stopped at --max-states' : '';
  console.log(`${p.name} (${r.profile}): ${points}, ${Math.round(r.statesPerSecond)} states/s${stopped}`);
  if (!r.failures.length) console.log(`  all ${r.states} crash states satisfy the invariants`);
  for (const f of r.failures) {
    console.log(`  BROKEN at crash point ${f.point} (${f.where}): ${f.invariant}: ${f.message}`);
    for (const l of f.lines.filter((x) => x.kept < x.stores)) {
      console.log(`    line ${l.line} of block ${l.block}: ${l.kept} of ${l.stores} stores reached the media`);
    }
    const program = JSON.stringify(p.name);
    const state = `${f.point}:${f.choice.join(',')}`;
    console.log(`    replay: npm run daxsim -- crash ${file} --program ${program} --replay ${state}`);
  }
}

export async function cmdCrash(args: string[]): Promise<number> {
  const { file, json, opt } = parseCrashArgs(args);
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
  let failed = 0;
  const results = [];
  for (const p of progs) {
    const r = explore(p, { maxStates, seed });
    results.push(r);
    if (r.failures.length) failed++;
    if (!json) printExplore(file, p, r);
  }
  if (json) console.log(JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}

