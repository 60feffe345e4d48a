// Builds src/oracle/runner.c with the system C compiler, on first use, into the cache directory
// ($DAXSIM_CACHE or ~/.cache/daxsim), never into the repository. The binary's name carries a
// hash of the source, so an edited runner.c is rebuilt.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

/** A missing tool or a failed build: the message says what to install or what went wrong. */
export class OracleSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OracleSetupError';
  }
}

/** The cache directory for the runner, kernels, initramfs images and disks. */
export function cacheDir(): string {
  const d = process.env['DAXSIM_CACHE'] ?? join(homedir(), '.cache', 'daxsim');
  mkdirSync(d, { recursive: true });
  return d;
}

export const RUNNER_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'runner.c');

/** Progress for the user, on stderr (stdout carries the comparison). */
export function progress(msg: string): void {
  process.stderr.write(`[daxsim kernel] ${msg}\n`);
}

/** The path of the static runner binary, compiled now when missing. */
export function runnerBinary(): string {
  const src = readFileSync(RUNNER_SOURCE);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 12);
  const out = join(cacheDir(), `daxsim-runner-${hash}`);
  if (existsSync(out)) return out;
  const cc = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    throw new OracleSetupError('the real-kernel runner needs a C compiler: apt-get install gcc libc6-dev');
  }
  progress(`compiling ${RUNNER_SOURCE} -> ${out}`);
  const tmp = `${out}.tmp${process.pid}`;
  const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', tmp, RUNNER_SOURCE], { encoding: 'utf8' });
  if (r.status !== 0) {
    const hint = /cannot find -lc|libc\.a/.test(r.stderr)
      ? ' (static linking needs libc6-dev: apt-get install libc6-dev)' : '';
    throw new OracleSetupError(`gcc -static failed${hint}:\n${r.stderr}`);
  }
  renameSync(tmp, out);
  return out;
}
