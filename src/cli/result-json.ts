// The versioned, deterministic JSON of `daxsim run --json`: byte-identical for the same scenario,
// variants and daxsim version (host wall times only with --host-times), with its units stated.

import { createHash } from 'node:crypto';
import type { RunResult } from '../scenario/run.ts';
import type { Breakdown } from '../trace/breakdown.ts';
import type { KnobValue } from '../scenario/types.ts';

/** Bumped whenever a field changes meaning or moves; added fields keep the version. */
export const SCHEMA_VERSION = 1;

/** What each numeric field is counted in. */
export const UNITS = {
  simNs: 'ns (simulated)',
  hostWallNs: 'ns (host wall clock, only with --host-times)',
  'reports.*.meminfo': 'kB',
  'reports.*.smaps': 'kB (numbers), text otherwise',
  'reports.*.files.*.sizeBytes': 'bytes',
  'reports.*.files.*.blocks': '512-byte blocks (st_blocks)',
  'reports.*.vmstat': 'events (counter deltas)',
  'reports.*.rusage': 'faults (getrusage deltas)',
  'reports.*.events': 'model events (counter deltas; ...Ns fields are ns)',
  'breakdown.*Ns': 'ns (simulated)',
} as const;

/** One variant's part of the JSON. */
export interface VariantJson {
  name: string;
  profile: string;
  knobs: Record<string, KnobValue>;
  reports: RunResult['reports'];
  steps: RunResult['steps'];
  failures: string[];
  breakdown?: Breakdown;
}

export interface RunJson {
  schemaVersion: number;
  daxsimVersion: string;
  scenario: { file: string; sha256: string };
  units: typeof UNITS;
}

/** sha256 of the scenario text: the run store and `merge` use it to tell scenarios apart. */
export function scenarioHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The variant's JSON part; without host times the steps carry no hostWallNs at all. */
export function variantJson(r: RunResult, knobs: Record<string, KnobValue>, hostTimes: boolean,
  breakdown: Breakdown | undefined): VariantJson {
  const steps = hostTimes ? r.steps : r.steps.map((s) => {
    const { hostWallNs: _omit, ...rest } = s;
    return rest as RunResult['steps'][number];
  });
  const out: VariantJson = { name: r.name, profile: r.profile, knobs, reports: r.reports, steps, failures: r.failures };
  if (breakdown !== undefined) out.breakdown = breakdown;
  return out;
}

/**
 * JSON text with object keys in insertion order (which is deterministic: the model builds every
 * record in a fixed order) and no whitespace, one line.
 */
export function stableStringify(v: unknown): string {
  return JSON.stringify(v);
}
