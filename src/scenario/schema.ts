/**
 * The scenario file's shape in zod, for editors and early checks: published as
 * schema/scenario.schema.json (`# yaml-language-server: $schema=../schema/scenario.schema.json`
 * in the examples gives completion), and used by `daxsim run` to check `expect` counter names
 * before anything runs (a misspelt `vmstat.pgfualt` is refused with the nearest name). The step
 * keys come from parse.ts's STEP_READERS, the knob and profile names from the profile registry,
 * the counter names from the counters themselves, so the schema cannot drift from the parser;
 * value checks (units, references, ranges) stay in parse.ts, which remains the authority.
 */
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { STEP_READERS } from './parse.ts';
import { SIGNAL_NAMES, STEP_KINDS, ScenarioError } from './types.ts';
import { KNOB_NAMES } from '../kernel/knobs.ts';
import { profiles } from '../kernel/profiles.ts';
import { Vmstat, Events } from '../kernel/counters.ts';
import { didYouMean } from '../lib/suggest.ts';

const VMSTAT_NAMES = Object.keys(new Vmstat());
// Machine.modelEvents adds cacheLinesFlushed to the kernel's event counters.
const EVENT_NAMES = [...Object.keys(new Events()), 'cacheLinesFlushed'];
const RUSAGE = ['minflt', 'majflt'];

/** A size or duration: a number or a string with a unit ("64KiB", "2ms"). */
const quantity = z.union([z.number(), z.string()]).describe('a number or a string with a unit (64KiB, 2ms)');
const counters = (names: string[]) =>
  z.object(Object.fromEntries(names.map((n) => [n, z.number().int()]))).partial().strict();

const expect = z.object({
  errno: z.string(),
  signal: z.enum(SIGNAL_NAMES),
  signalPage: z.number().int(),
  result: quantity,
  vmstat: counters(VMSTAT_NAMES),
  rusage: counters(RUSAGE),
  meminfo: z.record(z.string(), z.number()),
  events: counters(EVENT_NAMES),
  files: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string()]))),
  smaps: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string()]))),
  data: z.unknown().describe('a data spec: { bytes }, { string }, { pattern, seed }'),
}).partial().strict();

function stepSchema(kind: (typeof STEP_KINDS)[number]) {
  const reader = (STEP_READERS as Record<string, { keys: readonly string[] }>)[kind]!;
  const args: Record<string, z.ZodType> = Object.fromEntries(reader.keys.map((k) => [k, z.unknown()]));
  Object.assign(args, { thread: z.string(), process: z.string(), expect });
  const body = z.object(args).partial().strict();
  const value = kind === 'dropCaches' ? z.union([body, z.number(), z.null()]) : z.union([body, z.null()]);
  return z.object({ [kind]: value }).strict();
}

const device = z.object({
  name: z.string(), type: z.enum(['block', 'pmem']), sizeBytes: quantity, latencyNs: quantity,
  placement: z.enum(['mballoc', 'aligned', 'unaligned']),
  readAheadKb: z.number().int(), maxSectorsKb: z.number().int(),
}).partial({ latencyNs: true, placement: true, readAheadKb: true, maxSectorsKb: true }).strict();

const kernel = z.object({
  profile: z.enum(Object.keys(profiles) as [string, ...string[]]),
  ...Object.fromEntries(KNOB_NAMES.map((k) => [k, z.union([z.number(), z.string(), z.boolean()])])),
}).partial().strict();

export const scenarioSchema = z.object({
  name: z.string().optional(),
  seed: z.number().int().optional(),
  kernel: kernel.optional(),
  machine: z.object({
    memoryBytes: quantity, cpus: z.number().int().optional(), devices: z.array(device).optional(),
  }).strict(),
  mounts: z.array(z.object({ device: z.string(), fs: z.enum(['ext4', 'tmpfs']), target: z.string(),
    options: z.array(z.string()) }).partial({ device: true, options: true }).strict()).optional(),
  steps: z.array(z.union(STEP_KINDS.map(stepSchema) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]])),
}).strict();

/** A scenario document as the schema sees it (types inferred from the zod schema). */
export type ScenarioDocument = z.infer<typeof scenarioSchema>;

/** The JSON Schema (draft 2020-12) of schema/scenario.schema.json. */
export function scenarioJsonSchema(): Record<string, unknown> {
  const s = z.toJSONSchema(scenarioSchema, { unrepresentable: 'any', reused: 'ref' }) as Record<string, unknown>;
  return { ...s, $id: 'https://daxsim.invalid/schema/scenario.schema.json', title: 'daxsim scenario' };
}

/**
 * Checks every `expect` counter name of a scenario file before it runs; throws ScenarioError
 * naming the step and the nearest counter. Other mistakes are left to parse.ts's own messages.
 */
export function checkExpectCounters(file: string): void {
  if (!/\.(ya?ml|json)$/.test(file)) return;
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch {
    return; // parse.ts reports unreadable or malformed files with their position
  }
  const steps = (doc as { steps?: unknown }).steps;
  if (!Array.isArray(steps)) return;
  steps.forEach((step: unknown, i) => {
    if (step === null || typeof step !== 'object') return;
    for (const [kind, args] of Object.entries(step)) {
      const e = (args as { expect?: Record<string, unknown> } | null)?.expect;
      if (e === undefined || e === null) continue;
      const groups: Array<[string, readonly string[]]> =
        [['vmstat', VMSTAT_NAMES], ['events', EVENT_NAMES], ['rusage', RUSAGE]];
      for (const [group, names] of groups) {
        const got = e[group];
        if (got === null || typeof got !== 'object') continue;
        for (const n of Object.keys(got)) {
          if (!names.includes(n)) {
            throw new ScenarioError(`steps[${i}] (${kind}).expect.${group}.${n}`,
              `not a ${group} counter${didYouMean(n, names)}`, file);
          }
        }
      }
    }
  });
}
