// Runs encoded scenarios with runner.c on this machine's own kernel: tmpfs in a fresh directory
// under /dev/shm, ext4 in a fresh directory under /var/tmp (each checked to be that filesystem).
// DAX needs persistent memory, which only the QEMU guests have (guest.ts).

import { mkdtempSync, readFileSync, rmSync, writeFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';
import { encodeScenario, type OracleFs } from './encode.ts';
import { OracleSetupError, runnerBinary } from './build.ts';
import type { StepFigures } from './model-side.ts';
import type { Scenario } from '../scenario/types.ts';

/** The header line runner.c prints before the steps. */
export interface RunnerHeader {
  release: string;
  fs: string;
  root: boolean;
  fault_around_bytes: number;
  thp: string;
  shift: number;
  soft_dirty: boolean;
  [key: string]: unknown;
}

/** One real run of one scenario. */
export interface RealRun {
  header: RunnerHeader;
  steps: StepFigures[];
  warnings: string[];
  /** tracefs text of the run (guest runs with `--trace`): trace lines, step markers included. */
  trace?: string[];
}

/** Parses runner.c's JSON lines (header, steps, end); a fatal line or a missing end is an error. */
export function parseRunnerOutput(text: string, what: string): RealRun {
  let header: RunnerHeader | undefined;
  const steps: StepFigures[] = [];
  const warnings: string[] = [];
  let ended = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    if (typeof o['fatal'] === 'string') throw new OracleSetupError(`${what}: the runner stopped: ${o['fatal']}`);
    if (typeof o['warning'] === 'string') warnings.push(o['warning']);
    else if (o['hdr'] === 1) header = o as unknown as RunnerHeader;
    else if (o['end'] === true) ended = true;
    else if (typeof o['i'] === 'number') steps.push(o as unknown as StepFigures);
  }
  if (header === undefined || !ended) {
    throw new OracleSetupError(`${what}: the runner's output is incomplete:\n${text.slice(-2000)}`);
  }
  return { header, steps, warnings };
}

const FS_MAGIC: Record<string, number> = { tmpfs: 0x01021994, ext4: 0xef53 };
const HOST_DIRS: Record<string, string> = { tmpfs: '/dev/shm', ext4: '/var/tmp' };

/** Which filesystems this machine offers without a guest. */
export function hostFilesystems(): OracleFs[] {
  return (['tmpfs', 'ext4'] as const).filter((fs) => {
    try {
      return statfsSync(HOST_DIRS[fs]!).type === FS_MAGIC[fs];
    } catch {
      return false;
    }
  });
}

/** Whether `s` remounts a filesystem (a `remount` step or an `ro` mount): it then needs one of its own. */
function needsOwnMount(s: Scenario): boolean {
  return s.steps.some((st) => st.op === 'remount' || (st.op === 'mount' && st.args.options.includes('ro'))) ||
    s.mounts.some((m) => m.options.includes('ro'));
}

/**
 * The shell line that mounts a fresh filesystem of kind `fs` on `dir` inside the runner's private
 * mount namespace (unshare -m): tmpfs as /dev/shm is; ext4 on a loop device over `image` (made here
 * with mkfs.ext4), with the host disk's read_ahead_kb so that readahead matches the model's.
 */
function ownMountLine(fs: OracleFs, dir: string, image: string, tmpfsOpts: string): string {
  if (fs === 'tmpfs') return `mount -t tmpfs -o '${tmpfsOpts || 'size=2g'}' tmpfs '${dir}'`;
  const mk = spawnSync('sh', ['-c', `truncate -s 2G '${image}' && mkfs.ext4 -q -F '${image}'`], { encoding: 'utf8' });
  if (mk.status !== 0) throw new OracleSetupError(`mkfs.ext4 on ${image} failed: ${mk.stderr}`);
  const ra = hostReadAheadKb() ?? 128;
  return `mount -o loop '${image}' '${dir}' && d=$(findmnt -no SOURCE '${dir}') && ` +
    `echo ${ra} > /sys/block/\${d#/dev/}/queue/read_ahead_kb`;
}

/** Runs `s` on the host kernel; `fsOf` gives the filesystem of each mount target. */
export function runOnHost(s: Scenario, fsOf: (target: string, fs: OracleFs) => OracleFs,
  placements: Record<number, number>): RealRun {
  const have = hostFilesystems();
  const made: string[] = [];
  const mountLines: string[] = [];
  try {
    const probe = encodeScenario(s, { dirs: new Proxy({}, { get: () => '/x' }), remountable: true });
    // A tmpfs with its own size limit cannot be /dev/shm: it gets a mount of its own.
    const own = needsOwnMount(s) || probe.mounts.some((m) => m.tmpfsOpts !== '');
    const dirs: Record<string, string> = {};
    let label = '';
    for (const m of probe.mounts) {
      const fs = fsOf(m.target, m.fs);
      if (!have.includes(fs)) {
        throw new OracleSetupError(`${fs} is not available on this machine's kernel ` +
          `(host offers ${have.join(', ')}); ` +
          'DAX filesystems run in a guest: --kernel 6.1 or another Debian kernel');
      }
      const d = mkdtempSync(join(HOST_DIRS[fs]!, 'daxsim-'));
      made.push(d);
      dirs[m.target] = own ? `${d}/m` : d;
      if (own) {
        made.push(`${d}.img`);
        mountLines.push(ownMountLine(fs, d, `${d}.img`, m.tmpfsOpts));
      }
      label = label === '' ? fs : `${label}+${fs}`;
    }
    const enc = encodeScenario(s, { dirs, placements, remountable: own });
    const runDir = mkdtempSync('/tmp/daxsim-');
    made.push(runDir);
    const file = join(runDir, '.daxsim.run');
    writeFileSync(file, enc.text);
    const args = [file, label || 'none'];
    const r = own
      ? spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
        `${mountLines.join(' && ')} && exec "$0" "$@"`, runnerBinary(), ...args],
      { encoding: 'utf8', maxBuffer: 1 << 30 })
      : spawnSync(runnerBinary(), args, { encoding: 'utf8', maxBuffer: 1 << 30 });
    if (r.error) throw new OracleSetupError(`cannot run the runner: ${r.error.message}`);
    if (own && r.status !== 0 && !r.stdout.includes('"hdr":1')) {
      throw new OracleSetupError(`the private mount for ${s.source} failed: ${r.stderr}`);
    }
    return parseRunnerOutput(r.stdout, `${s.source} on ${release()}`);
  } finally {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  }
}

/** read_ahead_kb of the disk under the host's ext4 directory (/sys/block/DEV/queue), or undefined. */
export function hostReadAheadKb(): number | undefined {
  const r = spawnSync('findmnt', ['-no', 'SOURCE', '-T', HOST_DIRS['ext4']!], { encoding: 'utf8' });
  const dev = (r.stdout ?? '').trim().replace(/^\/dev\//, '').replace(/p?[0-9]+$/, '');
  try {
    return Number(readFileSync(`/sys/block/${dev}/queue/read_ahead_kb`, 'utf8').trim());
  } catch {
    return undefined;
  }
}
