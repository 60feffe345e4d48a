// Variants of one scenario: `--profile a,b,c` times every `--set knob=v1,v2` sweep, in a fixed
// order (profiles outermost, then each --set in command-line order), and `--shard i/n` slices.

import { parse as parseYaml } from 'yaml';
import { parseBytes, parseNs } from '../scenario/units.ts';
import { knobRow, KNOB_NAMES } from '../kernel/knobs.ts';
import { didYouMean } from '../lib/suggest.ts';
import { resolveProfile } from '../kernel/profiles.ts';
import type { KnobValue, Scenario } from '../scenario/types.ts';
import { UsageError } from './args.ts';

export interface Variant {
  /** Column and JSON key: the profile (when given) and each swept knob, "linux-6.1 faultAroundBytes=4096". */
  key: string;
  /** undefined: the scenario's own profile. */
  profile: string | undefined;
  knobs: Record<string, KnobValue>;
}

/** One `--set` value in the scenario's own units (`64KiB`, `2ms`, `true`, `mballoc`). */
function knobValue(name: string, text: string): KnobValue {
  let v: unknown;
  try {
    v = parseYaml(text);
  } catch {
    v = text;
  }
  if (name.endsWith('Bytes')) return parseBytes(v, `--set ${name}`);
  if (name.endsWith('Ns')) return parseNs(v, `--set ${name}`);
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  return text;
}

/** `knob=v1,v2`: the knob (checked against the knob table) and its values. */
function parseSet(spec: string, usage: string): { name: string; values: KnobValue[]; texts: string[] } {
  const m = /^([A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(spec);
  if (!m) throw new UsageError(`run: --set expects knob=value or knob=v1,v2,..., got ${JSON.stringify(spec)}`, usage);
  const name = m[1]!;
  if (knobRow(name) === undefined) {
    throw new UsageError(`run: --set ${name}: not a knob${didYouMean(name, KNOB_NAMES)}`, usage);
  }
  const texts = m[2]!.split(',');
  if (texts.some((t) => t === '')) {
    throw new UsageError(`run: --set ${name}: an empty value in ${JSON.stringify(m[2])}`, usage);
  }
  try {
    return { name, values: texts.map((t) => knobValue(name, t)), texts };
  } catch (e) {
    throw new UsageError(`run: ${e instanceof Error ? e.message : String(e)}`, usage);
  }
}

/** Every variant, profiles first; a knob swept over one value is part of no key (it is the same in every column). */
export function expandVariants(profileOpt: string | undefined, sets: readonly string[], usage: string): Variant[] {
  const profiles = profileOpt === undefined ? [undefined] : profileOpt.split(',');
  for (const p of profiles) {
    if (p === '') throw new UsageError(`run: --profile ${JSON.stringify(profileOpt)} names an empty profile`, usage);
    if (p !== undefined) {
      try {
        resolveProfile(p);
      } catch (e) {
        throw new UsageError(`run: --profile: ${e instanceof Error ? e.message : String(e)}`, usage);
      }
    }
  }
  let out: Variant[] = profiles.map((p) => ({ key: p ?? '', profile: p, knobs: {} }));
  for (const spec of sets) {
    const { name, values, texts } = parseSet(spec, usage);
    out = out.flatMap((v) => values.map((value, i) => ({
      key: values.length > 1 ? `${v.key} ${name}=${texts[i]}`.trim() : v.key,
      profile: v.profile,
      knobs: { ...v.knobs, [name]: value },
    })));
  }
  const keys = new Set(out.map((v) => v.key));
  if (keys.size !== out.length) {
    throw new UsageError('run: two variants are the same (a profile or value given twice)', usage);
  }
  return out;
}

/** `--shard i/n` (1-based, as Slurm array and Kubernetes job indexes are counted from 0 or 1: i runs 1..n). */
export function parseShard(spec: string | undefined, usage: string): { index: number; count: number } | null {
  if (spec === undefined) return null;
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const index = m ? Number(m[1]) : NaN, count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`run: --shard expects i/n with 1 <= i <= n, got ${JSON.stringify(spec)}`, usage);
  }
  return { index, count };
}

/** The shard's slice: variants i-1, i-1+n, i-1+2n, ... (round robin, so every shard gets the same mix). */
export function shardOf<T>(all: readonly T[], shard: { index: number; count: number } | null): T[] {
  if (shard === null) return [...all];
  return all.filter((_, i) => i % shard.count === shard.index - 1);
}

/** The scenario with the variant's profile and knobs over its own `kernel:` section. */
export function applyVariant(s: Scenario, v: Variant): Scenario {
  const knobs: Record<string, KnobValue> = {};
  for (const [k, val] of Object.entries(s.kernel.knobs)) {
    Object.defineProperty(knobs, k, { value: val, enumerable: true, writable: true, configurable: true });
  }
  for (const [k, val] of Object.entries(v.knobs)) {
    Object.defineProperty(knobs, k, { value: val, enumerable: true, writable: true, configurable: true });
  }
  return { ...s, kernel: { profile: v.profile ?? s.kernel.profile, knobs } };
}
