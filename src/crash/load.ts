/** Loading crash programs from a file (the CLI and the exploration workers). */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadScenarioFile } from '../scenario/load.ts';
import type { CrashProgram } from './explore.ts';

/** A crash-program file that cannot be used (reported as bad usage). */
export class CrashLoadError extends Error {}

/** The crash programs of `file`: a YAML/JSON scenario, or the default export of a TypeScript module. */
export async function loadCrashPrograms(file: string): Promise<CrashProgram[]> {
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
      throw new CrashLoadError(`cannot load ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    all = (Array.isArray(mod.default) ? mod.default : [mod.default]) as CrashProgram[];
  }
  if (!all.length || all.some((p) => !p || typeof p.run !== 'function' || typeof p.name !== 'string')) {
    throw new CrashLoadError(
      `${file}: the default export must be a crash program ({ name, description, run }) or a list of them`);
  }
  return all;
}

