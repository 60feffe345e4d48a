// Shared command-line plumbing: node:util parseArgs with daxsim's usage errors, per-command help,
// and the package version.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';

/** A mistake in the command line: printed as one short line plus the command's usage, exit 2. */
export class UsageError extends Error {
  readonly usage: string;
  constructor(message: string, usage = '') {
    super(message);
    this.usage = usage;
  }
}

/** One command: its synopsis (shown by `daxsim CMD --help` and after a usage error) and its options. */
export interface CommandSpec {
  name: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  help: boolean;
}

/** The message parseArgs throws, shortened to what the user needs (no "To specify a positional..." advice). */
function shortParseError(e: Error): string {
  return e.message.split('\n')[0]!.replace(/\. To specify .*$/, '').replace(/\.$/, '')
    .replace(/^Unknown option '([^']*)'/, 'unknown option "$1"');
}

/**
 * Parse `args` for command `spec` with node:util parseArgs (strict: `--opt value` and
 * `--opt=value`, unknown options refused). `--help`/`-h` is added to every command.
 */
export function parseCommand(spec: CommandSpec, args: string[]): Parsed {
  const options = { ...spec.options, help: { type: 'boolean', short: 'h' } } as const;
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    const values = r.values as Parsed['values'];
    return { values, positionals: r.positionals, help: values.help === true };
  } catch (e) {
    const known = Object.keys(spec.options).map((o) => `--${o}`).join(', ');
    const msg = e instanceof Error ? shortParseError(e) : String(e);
    throw new UsageError(`${spec.name}: ${msg}${known ? ` (options: ${known})` : ''}`, spec.usage);
  }
}

/** A whole non-negative number option, or `dflt` when absent. */
export function wholeNumber(spec: CommandSpec, v: unknown, opt: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) {
    const got = v === undefined ? 'nothing' : JSON.stringify(v);
    throw new UsageError(`${spec.name}: --${opt} needs a whole number, got ${got}`, spec.usage);
  }
  return Number(v);
}

let cachedVersion: string | null = null;

/** daxsim's version, from package.json (`daxsim --version`, the JSON and the run store). */
export function daxsimVersion(): string {
  if (cachedVersion === null) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}
