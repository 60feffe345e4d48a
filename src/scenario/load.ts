// Reading a scenario file from disk (Node only): kept apart from parse.ts so that the parser, and
// everything the browser view bundles, has no Node dependency (test/browser-core.test.ts).

import { readFileSync } from 'node:fs';
import { parseScenario } from './parse.ts';
import { ScenarioError, type Scenario } from './types.ts';

/** Reads a .yaml, .yml or .json scenario file and parses it (see parseScenario). */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ScenarioError('', `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, path);
  }
  return parseScenario(text, path);
}
