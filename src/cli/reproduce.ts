// `daxsim reproduce [NAME...]`: the seed experiments beside their published figures.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { experiments, rowOk } from '../reproduce/experiments.ts';
import { formatExperiment } from '../reproduce/report.ts';
import { experimentChartSvg } from '../reproduce/charts.ts';
import { parseCommand, UsageError, type CommandSpec } from './args.ts';

export const REPRODUCE: CommandSpec = {
  name: 'reproduce',
  usage: `usage: daxsim reproduce [NAME...] [--json] [--plot DIR]

  re-run the seed experiments (${Object.keys(experiments).join(', ')}) beside the
  published figures; exit 1 when a held-out figure leaves its tolerance
  --json        one JSON document
  --plot DIR    write one SVG chart per experiment into DIR`,
  options: { json: { type: 'boolean' }, plot: { type: 'string' } },
};

export async function cmdReproduce(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(REPRODUCE, args);
  for (const a of positionals) {
    if (!(a in experiments)) {
      const known = Object.keys(experiments).join(', ');
      throw new UsageError(`unknown experiment "${a}" (known: ${known})`, REPRODUCE.usage);
    }
  }
  const plotDir = values.plot as string | undefined;
  if (plotDir === '') throw new UsageError('--plot needs a directory', REPRODUCE.usage);
  const run = positionals.length ? positionals : Object.keys(experiments);
  const results = run.map((n) => experiments[n]!());
  const failed = results.flatMap((e) =>
    e.rows.filter((r) => r.role === 'held-out' && !rowOk(r)).map((r) => `${e.name}: ${r.metric}`));
  if (plotDir !== undefined) {
    mkdirSync(plotDir, { recursive: true });
    for (const e of results) writeFileSync(join(plotDir, `${e.name}.svg`), await experimentChartSvg(e));
  }
  if (values.json === true) {
    console.log(JSON.stringify({ experiments: results, heldOutOutsideTolerance: failed }, null, 2));
  } else {
    for (const e of results) console.log(formatExperiment(e) + '\n');
    console.log(failed.length
      ? `held-out figures outside their tolerance (${failed.length}):\n  ${failed.join('\n  ')}`
      : 'every held-out figure is within its tolerance');
    if (plotDir !== undefined) console.log(`plots written to ${plotDir}/`);
  }
  return failed.length ? 1 : 0;
}
