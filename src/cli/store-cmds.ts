// `daxsim runs --store FILE.db` and `daxsim compare A B [--store FILE.db]`: what the run store
// keeps, and what changed between two runs, two sets of stored runs, or two `run --json` files.

import { readFileSync } from 'node:fs';
import { parseCommand, UsageError, type CommandSpec } from './args.ts';
import { figuresOf, listRuns, selectRuns, StoreError, type StoredRun } from '../store/runs.ts';
import { columns, flatCounters } from './run-output.ts';
import type { VariantJson } from './result-json.ts';

export const RUNS: CommandSpec = {
  name: 'runs',
  usage: `usage: daxsim runs --store FILE.db [--json]

  list the runs kept by \`daxsim run ... --store FILE.db\`: id, scenario, profile, knobs, daxsim version`,
  options: { store: { type: 'string' }, json: { type: 'boolean' } },
};

export const COMPARE: CommandSpec = {
  name: 'compare',
  usage: `usage: daxsim compare A B [--store FILE.db]

  print every figure that differs between A and B, each one of:
    a run id of the store (12), a set of stored runs (profile=linux-6.1, scenario=SHA-PREFIX,
    file=PATH, version=V, comma-separated), or a JSON file written by \`daxsim run --json\`
  runs of two sets are paired by scenario, knobs and profile (or scenario and knobs, or scenario);
  exit 1 when anything differs`,
  options: { store: { type: 'string' } },
};

function needStore(spec: CommandSpec, v: Record<string, unknown>): string {
  const s = v['store'];
  if (typeof s !== 'string') throw new UsageError(`${spec.name}: needs --store FILE.db`, spec.usage);
  return s;
}

export function cmdRuns(args: string[]): number {
  const { values, positionals } = parseCommand(RUNS, args);
  if (positionals.length > 0) throw new UsageError(`runs: unexpected argument ${positionals[0]}`, RUNS.usage);
  const runs = listRuns(needStore(RUNS, values));
  if (values.json === true) {
    console.log(JSON.stringify(runs));
    return 0;
  }
  const rows = runs.map((r) => [String(r.id), r.name.slice(0, 40), r.profile, r.knobs === '{}' ? '' : r.knobs,
    r.sha256.slice(0, 12), r.version, r.failures ? `${r.failures} failed` : 'ok']);
  const head = ['id', 'scenario', 'profile', 'knobs', 'sha256', 'version', 'expect'];
  for (const l of columns(head, rows, (i) => i === 0)) console.log(l);
  return 0;
}

/** One side's runs: label (for pairing) -> figures. */
type Side = Array<{ pair: [string, string, string]; label: string; figures: Map<string, number> }>;

function fromJson(file: string): Side {
  let doc: { variants?: Record<string, VariantJson>; scenario?: { sha256: string } } & Partial<VariantJson>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
  } catch (e) {
    throw new UsageError(`compare: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, COMPARE.usage);
  }
  const sha = doc.scenario?.sha256 ?? '';
  const variants: Array<[string, VariantJson]> =
    doc.variants ? Object.entries(doc.variants) : [['', doc as VariantJson]];
  return variants.map(([key, v]) => ({ pair: [sha, JSON.stringify(v.knobs ?? {}), v.profile],
    label: `${file}${key ? ` [${key}]` : ''}`, figures: flatCounters(v) }));
}

function fromStore(store: string | undefined, selector: string): Side {
  if (store === undefined) {
    throw new UsageError(`compare: ${selector} names stored runs: give --store FILE.db`, COMPARE.usage);
  }
  const runs: StoredRun[] = selectRuns(store, selector);
  if (runs.length === 0) throw new StoreError(`compare: no stored run matches ${JSON.stringify(selector)}`);
  return runs.map((r) => ({ pair: [r.sha256, r.knobs, r.profile],
    label: `run ${r.id} (${r.profile}, ${r.version})`, figures: figuresOf(store, r.id) }));
}

/** The changed figures of one pair, as table rows. */
function diff(a: Map<string, number>, b: Map<string, number>): string[][] {
  const rows: string[][] = [];
  const names = [...a.keys(), ...[...b.keys()].filter((k) => !a.has(k))];
  for (const n of names) {
    const x = a.get(n), y = b.get(n);
    if (x === y) continue;
    const d = x !== undefined && y !== undefined ? y - x : NaN;
    const sign = d > 0 ? '+' : '';
    const pct = x !== undefined && x !== 0 && !Number.isNaN(d) ? ` (${sign}${((100 * d) / x).toFixed(1)}%)` : '';
    rows.push([n, x === undefined ? '-' : String(x), y === undefined ? '-' : String(y),
      Number.isNaN(d) ? '' : `${d > 0 ? '+' : ''}${d}${pct}`]);
  }
  return rows;
}

export function cmdCompare(args: string[]): number {
  const { values, positionals } = parseCommand(COMPARE, args);
  if (positionals.length !== 2) {
    throw new UsageError(`compare: expected two runs A B, got ${positionals.length}`, COMPARE.usage);
  }
  const store = values.store as string | undefined;
  const side = (s: string): Side => (s.endsWith('.json') ? fromJson(s) : fromStore(store, s));
  const a = side(positionals[0]!), b = side(positionals[1]!);
  // Pair runs of the same scenario, knobs and profile; failing that, let the profile differ, then the knobs.
  let pairs: Array<readonly [Side[number], Side[number]]> = [];
  for (const n of [3, 2, 1]) {
    const same = (x: Side[number], y: Side[number]): boolean =>
      x.pair.slice(0, n).join(' ') === y.pair.slice(0, n).join(' ');
    pairs = a.flatMap((x) => b.filter((y) => same(x, y)).slice(-1).map((y) => [x, y] as const));
    if (pairs.length > 0) break;
  }
  if (pairs.length === 0 && a.length === 1 && b.length === 1) pairs = [[a[0]!, b[0]!]];
  if (pairs.length === 0) {
    throw new StoreError('compare: no run of A has a run of B with the same scenario, profile and knobs');
  }
  let changed = 0;
  for (const [x, y] of pairs) {
    const rows = diff(x.figures, y.figures);
    const what = rows.length === 0 ? 'no differences' : `${rows.length} figures differ`;
    console.log(`${x.label}  ->  ${y.label}: ${what}`);
    if (rows.length > 0) {
      for (const l of columns(['figure', 'A', 'B', 'B - A'], rows, (i) => i > 0)) console.log(`  ${l}`);
    }
    changed += rows.length;
  }
  return changed > 0 ? 1 : 0;
}
