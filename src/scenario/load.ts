// Reading a scenario file from disk (Node only): kept apart from parse.ts so that the parser, and
// everything the browser view bundles, has no Node dependency (test/browser-core.test.ts).

import { readFileSync, statSync } from 'node:fs';
import { parseScenario } from './parse.ts';
import { ScenarioError, SCENARIO_BYTES_MAX, type Scenario } from './types.ts';

/** Reads a .yaml, .yml or .json scenario file and parses it (see parseScenario). */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    // Refuse a huge file before reading it whole (its size in bytes bounds its length in characters).
    const sizeBytes = statSync(path).size;
    if (sizeBytes > SCENARIO_BYTES_MAX) {
      throw new ScenarioError('', `the file is ${sizeBytes} bytes, at most ${SCENARIO_BYTES_MAX} (16 MiB)`, path);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw new ScenarioError('', `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, path);
  }
  return parseScenario(text, path);
}
