// `daxsim merge SHARD.json...`: join the JSON of `daxsim run --shard i/n --json` runs into the
// document the unsharded sweep prints (same variant order, same bytes).

import { readFileSync, writeFileSync } from 'node:fs';
import { parseCommand, UsageError, type CommandSpec } from './args.ts';
import { SCHEMA_VERSION, type VariantJson } from './result-json.ts';

export const MERGE: CommandSpec = {
  name: 'merge',
  usage: `usage: daxsim merge SHARD.json... [--out FILE]

  join the JSON output of every shard of one sweep (daxsim run FILE ... --shard I/N --json),
  checking they are shards 1..N of the same scenario and daxsim version`,
  options: { out: { type: 'string' } },
};

interface ShardDoc {
  schemaVersion: number; daxsimVersion: string; scenario: { file: string; sha256: string }; units: unknown;
  shard?: { index: number; count: number }; variantOrder?: string[]; variants?: Record<string, VariantJson>;
}

function load(file: string): ShardDoc {
  let d: ShardDoc;
  try {
    d = JSON.parse(readFileSync(file, 'utf8')) as ShardDoc;
  } catch (e) {
    throw new UsageError(`merge: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, MERGE.usage);
  }
  if (d.schemaVersion !== SCHEMA_VERSION) {
    throw new UsageError(`merge: ${file} has schemaVersion ${d.schemaVersion}, this daxsim writes ${SCHEMA_VERSION}`);
  }
  if (d.shard === undefined || d.variantOrder === undefined || d.variants === undefined) {
    throw new UsageError(`merge: ${file} is not the JSON of a sharded run (daxsim run ... --shard I/N --json)`);
  }
  return d;
}

export function mergeShards(files: string[]): Record<string, unknown> {
  const docs = files.map(load);
  const first = docs[0]!;
  const count = first.shard!.count;
  const seen = new Map<number, string>();
  docs.forEach((d, i) => {
    const f = files[i]!;
    if (d.scenario.sha256 !== first.scenario.sha256) {
      throw new UsageError(`merge: ${f} ran another scenario than ${files[0]}`);
    }
    if (d.daxsimVersion !== first.daxsimVersion) throw new UsageError(`merge: ${f} is from daxsim ${d.daxsimVersion}`);
    if (d.shard!.count !== count) {
      throw new UsageError(`merge: ${f} is shard ${d.shard!.index}/${d.shard!.count}, not of ${count}`);
    }
    const dup = seen.get(d.shard!.index);
    if (dup !== undefined) throw new UsageError(`merge: ${f} and ${dup} are both shard ${d.shard!.index}/${count}`);
    seen.set(d.shard!.index, f);
  });
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0) {
    throw new UsageError(`merge: shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} missing`);
  }
  // Shard i holds global variants i-1, i-1+n, ...: interleave them back.
  const byIndex = new Map(docs.map((d) => [d.shard!.index, d]));
  const order: string[] = [];
  const variants: Record<string, VariantJson> = {};
  const total = docs.reduce((n, d) => n + d.variantOrder!.length, 0);
  for (let g = 0; g < total; g++) {
    const d = byIndex.get((g % count) + 1)!;
    const key = d.variantOrder![Math.floor(g / count)];
    if (key === undefined) throw new UsageError('merge: the shards do not come from one sweep (uneven slices)');
    order.push(key);
    variants[key] = d.variants![key]!;
  }
  const { schemaVersion, daxsimVersion, scenario, units } = first;
  return { schemaVersion, daxsimVersion, scenario, units, variantOrder: order, variants };
}

export function cmdMerge(args: string[]): number {
  const { values, positionals } = parseCommand(MERGE, args);
  if (positionals.length === 0) throw new UsageError('merge: give the shards\' JSON files', MERGE.usage);
  const text = JSON.stringify(mergeShards(positionals));
  if (typeof values.out === 'string') writeFileSync(values.out, `${text}\n`);
  else console.log(text);
  return 0;
}
