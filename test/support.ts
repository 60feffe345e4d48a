/**
 * Machine builders and readers the tests share (issue 10): the DAX, tmpfs and page-cache machines,
 * the guest probes' written and sparse files, fault counters over rusage, st_blocks, the probes'
 * 2 MiB-aligned address reservation and the oracle JSON-lines files in test/oracle/.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine, type Process } from '../src/api/machine.ts';
import type { Placement } from '../src/fs/ext4/balloc.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE } from '../src/mm/constants.ts';

export const KiB = 2 ** 10, MiB = 2 ** 20, GiB = 2 ** 30, PG = 4096;
/** A 2 MiB-aligned user address (and 1 GiB-aligned) for MAP_FIXED mappings. */
export const A = 0x7f0000000000;

export interface DaxMachineOptions {
  /** Profile knobs over the profile's own values. */
  knobs?: Record<string, unknown>;
  /** Size of the pmem device; 4 GiB unless given. */
  pmemBytes?: number;
  /** Block placement of the allocator on pmem0 (the machine's default, mballoc, unless given). */
  placement?: Placement;
}

/** A machine with 4 GiB of memory and ext4 mounted `-o dax` at /mnt on a pmem device, pmem0. */
export function daxMachine(profile: string, opts: DaxMachineOptions = {}): Machine {
  const pmem = { name: 'pmem0', type: 'pmem' as const, sizeBytes: opts.pmemBytes ?? 4 * GiB,
    ...(opts.placement ? { placement: opts.placement } : {}) };
  const m = new Machine({ profile, knobs: opts.knobs, memoryBytes: 4 * GiB, devices: [pmem] });
  assert.equal(m.mkfs('pmem0', 'ext4'), 0);
  assert.equal(m.mount('/mnt', 'ext4', 'pmem0', ['dax']), 0);
  return m;
}

/** A machine with only tmpfs, mounted at /tmp (1 GiB of memory unless given). */
export function tmpfsMachine(profile: string, memoryBytes = 1 * GiB): Machine {
  const m = new Machine({ profile, memoryBytes });
  assert.equal(m.mount('/tmp', 'tmpfs'), 0);
  return m;
}

/**
 * The 6.1 guest's page-cache pair: 4 GiB of memory, tmpfs at /tmp and ext4 without DAX at /disk on
 * a 2 GiB block device, vda.
 */
export function pageCacheMachine(profile: string, knobs: Record<string, unknown> = {}): Machine {
  const vda = { name: 'vda', type: 'block' as const, sizeBytes: 2 * GiB };
  const m = new Machine({ profile, knobs, memoryBytes: 4 * GiB, devices: [vda] });
  m.mount('/tmp', 'tmpfs');
  m.mkfs('vda', 'ext4');
  m.mount('/disk', 'ext4', 'vda');
  return m;
}

/**
 * The guest probes' written file: created (or truncated), written with pwrite in 1 MiB chunks of
 * 0x5a (the last one shorter when `bytes` is not a multiple), then fsynced. Returns the fd.
 */
export function written(p: Process, path: string, bytes = 128 * MiB): number {
  const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < bytes; o += MiB) {
    const n = Math.min(MiB, bytes - o);
    assert.equal(p.pwrite(fd, n, o, 0x5a), n);
  }
  assert.equal(p.fsync(fd), 0);
  return fd;
}

/** A sparse file: created (or truncated) and grown to `bytes` by ftruncate, no block allocated. Returns the fd. */
export function sparse(p: Process, path: string, bytes = 128 * MiB): number {
  const fd = p.open(path, O_RDWR | O_CREAT | O_TRUNC);
  p.ftruncate(fd, bytes);
  return fd;
}

/** The minor and major faults (getrusage ru_minflt, ru_majflt) that `fn` adds to the process. */
export function rusageDelta(p: Process, fn: () => void): { minflt: number; majflt: number } {
  const a = p.rusage();
  fn();
  const b = p.rusage();
  return { minflt: b.minflt - a.minflt, majflt: b.majflt - a.majflt };
}

/** [minor, major]: the faults `fn` adds to the process's rusage. */
export function faults(p: Process, fn: () => void): [number, number] {
  const d = rusageDelta(p, fn);
  return [d.minflt, d.majflt];
}

/** Minor plus major faults that `fn` adds to the process's rusage. */
export function faultCount(p: Process, fn: () => void): number {
  const d = rusageDelta(p, fn);
  return d.minflt + d.majflt;
}

/** The process's faults so far, minor plus major (getrusage). */
export function totalFaults(p: Process): number {
  const u = p.rusage();
  return u.minflt + u.majflt;
}

/** st_blocks of `path` (512-byte units), or the negative errno of a failed stat. */
export function blocks(p: Process, path: string): number {
  const s = p.stat(path);
  return typeof s === 'number' ? s : s.blocks;
}

/**
 * The probes' `aligned_map` address: reserves `len` + 8 MiB of PROT_NONE address space and returns
 * its first 2 MiB boundary, where the caller maps with MAP_FIXED.
 */
export function pmdAlignedAddress(p: Process, len: number): number {
  const r = p.mmap(0, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return Math.ceil(r / (2 << 20)) * (2 << 20);
}

/** The rows of a JSON-lines oracle file in test/oracle/ (one JSON object a line). */
export function oracleRows<T>(file: string): T[] {
  return readFileSync(new URL(`./oracle/${file}`, import.meta.url), 'utf8')
    .trim().split('\n').map((l) => JSON.parse(l) as T);
}
