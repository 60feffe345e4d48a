// `node src/fuzz/mutate.ts [--seed S] [--count N] [--steps-max M]`: the scenario mutator of
// issue 17. Takes the scenarios in examples/, mutates each seeded (a number in a step scaled,
// negated, made huge, fractional or off by one; a flag dropped or swapped for another of the
// file; two steps swapped; a step removed or repeated), and runs the result through the parser and
// the model. A clear error (ScenarioError, ProfileError) or a run is fine; any other exception
// is a finding: the model let a user's input reach an internal error. Exit 1 on findings.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parseScenario } from '../scenario/parse.ts';
import { runScenario } from '../scenario/run.ts';
import { ScenarioError } from '../scenario/types.ts';
import { ProfileError } from '../kernel/knobs.ts';

/** splitmix32: the generator of src/oracle/fuzz.ts, so a seed replays exactly. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

const NUMBER_EDITS: readonly ((n: number, r: () => number) => number)[] = [
  (n) => n * 2, (n) => Math.floor(n / 2), (n) => -n, (n) => n + 1, (n) => n - 1, () => 0,
  () => 2 ** 40, () => 2 ** 53, (n) => n + 0.5, (n) => n * 4096, (_n, r) => Math.floor(r() * 2 ** 24),
];

/** Every [holder, key] under `v` whose value is a number or a string flag (A_B form). */
function leaves(v: unknown, out: [Record<string, unknown> | unknown[], string | number][]): void {
  if (Array.isArray(v)) {
    v.forEach((x, i) => { if (typeof x === 'object' && x !== null) leaves(x, out); else out.push([v, i]); });
  }
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'object' && x !== null) leaves(x, out); else out.push([v as Record<string, unknown>, k]);
    }
  }
}

/** One mutation of the scenario document `doc` (in place). */
function mutateOnce(doc: { steps?: unknown[] }, r: () => number, flags: readonly string[]): void {
  const steps = Array.isArray(doc.steps) ? doc.steps : [];
  const pick = Math.floor(r() * 4);
  if (pick === 0 && steps.length > 1) {
    const i = Math.floor(r() * steps.length), j = Math.floor(r() * steps.length);
    [steps[i], steps[j]] = [steps[j], steps[i]];
    return;
  }
  if (pick === 1 && steps.length > 0) {
    const i = Math.floor(r() * steps.length);
    if (r() < 0.5) steps.splice(i, 1); else steps.splice(i, 0, structuredClone(steps[i]));
    return;
  }
  const ls: [Record<string, unknown> | unknown[], string | number][] = [];
  leaves(steps.length > 0 ? steps : doc, ls);
  if (ls.length === 0) return;
  const [holder, key] = ls[Math.floor(r() * ls.length)]!;
  const cur = (holder as Record<string | number, unknown>)[key];
  let next: unknown = cur;
  if (typeof cur === 'number') next = NUMBER_EDITS[Math.floor(r() * NUMBER_EDITS.length)]!(cur, r);
  else if (typeof cur === 'string' && /^[A-Z][A-Z0-9_]+$/.test(cur) && flags.length > 0) {
    next = flags[Math.floor(r() * flags.length)];
  } else if (typeof cur === 'string' && /^\d+(KiB|MiB|GiB)$/.test(cur)) next = `${Math.floor(r() * 4096)}MiB`;
  (holder as Record<string | number, unknown>)[key] = next;
}

export interface MutantResult {
  file: string; seed: number; outcome: 'ran' | 'clear-error' | 'finding'; message: string;
}

/** Mutate `text` with seed `seed` (1-4 mutations), parse and run it; classify the outcome. */
export function runMutant(file: string, text: string, seed: number, stepsMax: number): MutantResult {
  const r = rng(seed);
  const doc = parse(text) as { steps?: unknown[] };
  const flags = [...new Set(text.match(/\b(?:O|MAP|PROT|MADV|MS|FALLOC_FL|MREMAP|MCL|MLOCK)_[A-Z0-9_]+/g) ?? [])];
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) mutateOnce(doc, r, flags);
  if (Array.isArray(doc.steps) && doc.steps.length > stepsMax) doc.steps.length = stepsMax;
  try {
    const s = parseScenario(stringify(doc), `${file}#${seed}`);
    runScenario(s);
    return { file, seed, outcome: 'ran', message: '' };
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof ProfileError) {
      return { file, seed, outcome: 'clear-error', message: e.message };
    }
    const msg = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
    return { file, seed, outcome: 'finding', message: msg };
  }
}

function main(argv: readonly string[]): number {
  const arg = (name: string, d: number) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : d;
  };
  const seed0 = arg('--seed', 1), count = arg('--count', 20), stepsMax = arg('--steps-max', 200);
  const dir = join(import.meta.dirname, '..', '..', 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const tally = { ran: 0, 'clear-error': 0, finding: 0 };
  const findings = new Map<string, MutantResult>();
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (let i = 0; i < count; i++) {
      const res = runMutant(f, text, seed0 + i, stepsMax);
      tally[res.outcome]++;
      const sig = res.message.replace(/\d+/g, 'N');
      if (res.outcome === 'finding' && !findings.has(sig)) findings.set(sig, res);
    }
  }
  console.log(`mutants: ${files.length} files x ${count}: ran ${tally.ran}, clear errors ${tally['clear-error']}, ` +
    `findings ${tally.finding} (${findings.size} kinds)`);
  for (const r of findings.values()) console.log(`  ${r.file} --seed ${r.seed}: ${r.message}`);
  return tally.finding > 0 ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
