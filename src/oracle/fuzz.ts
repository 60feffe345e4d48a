// Seeded random programs for the real-kernel oracle (`daxsim fuzz`): small valid scenarios over
// the vocabulary src/oracle/runner.c executes (every single-threaded step kind; threads,
// processes, background work, copy and crashes are refused by the runner and never generated),
// with sizes near page, folio (16 KiB, 64 KiB), PMD (2 MiB) and EOF boundaries. A program is a
// list of steps kept as plain objects, written out as a YAML scenario, so that the shrinker can
// delete steps and shrink sizes and every reproducer is an ordinary scenario file.

import type { OracleFs } from './encode.ts';

/** splitmix32: a small deterministic PRNG (no Math.random), one 32-bit state. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  /** Next 32-bit unsigned value. */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new Error(`Rng.int: bad bound ${n}`);
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('Rng.pick: empty list');
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean { return this.next() / 2 ** 32 < p; }
  /** A few distinct items of xs, in xs order. */
  some<T>(xs: readonly T[], p: number): T[] { return xs.filter(() => this.chance(p)); }
}

/** One step of a program: op name and its arguments as the scenario file spells them. */
export interface FuzzStep { op: string; args: Record<string, unknown> }

/** A random program: its seed, target filesystem and steps. */
export interface Program { seed: number; fs: OracleFs; steps: FuzzStep[] }

const KIB = 1024, MIB = 1024 * KIB, PAGE = 4096;
/** Base address of fixed mappings: 1 GiB-aligned, inside the runner's reservation. */
export const FIXED_BASE = 0x7f0000000000;

/** Sizes near the boundaries that matter: a page, a folio (16/64 KiB), a PMD (2 MiB), with small offsets. */
function boundarySize(r: Rng, max: number): number {
  const base = r.pick([PAGE, 2 * PAGE, 3 * PAGE, 16 * KIB, 64 * KIB, 128 * KIB, 2 * MIB, 2 * MIB + PAGE, 4 * MIB,
    8 * MIB - PAGE]);
  const delta = r.pick([0, 0, 0, 1, -1, PAGE, -PAGE, 100, -100, 2 * PAGE + 37]);
  return Math.max(1, Math.min(max, base + delta));
}

/** A byte offset inside [0, len), near a page/folio/PMD boundary or the end. */
function boundaryOffset(r: Rng, len: number, pageAligned: boolean): number {
  const cands = [0, PAGE, 3 * PAGE, 16 * KIB, 64 * KIB, 2 * MIB, len - PAGE, len - 1, Math.floor(len / 2)];
  let off = Math.max(0, Math.min(len - 1, r.pick(cands)));
  if (pageAligned) off -= off % PAGE;
  return Math.max(0, off);
}

interface FileSt { path: string; size: number; exists: boolean }
interface FdSt { name: string; file: FileSt; writable: boolean; open: boolean; mode: string }
interface MapSt { name: string; len: number; fd: FdSt | undefined; writable: boolean; live: boolean }

/** Generation state: what the program has made so far (only to choose plausible arguments). */
class Gen {
  readonly steps: FuzzStep[] = [];
  readonly files: FileSt[] = [];
  readonly fds: FdSt[] = [];
  readonly maps: MapSt[] = [];
  private reports = 0;
  private fixedSlot = 0;
  private mapNo = 0;
  readonly r: Rng;
  readonly fs: OracleFs;
  constructor(r: Rng, fs: OracleFs) { this.r = r; this.fs = fs; }

  add(op: string, args: Record<string, unknown>): void { this.steps.push({ op, args }); }

  create(): void {
    const r = this.r;
    const f: FileSt = { path: `/mnt/f${this.files.length}`, size: boundarySize(r, 8 * MIB), exists: true };
    this.files.push(f);
    const args: Record<string, unknown> = { path: f.path, sizeBytes: f.size };
    if (r.chance(0.3)) args['content'] = 'sparse';
    else if (r.chance(0.5)) args['writeChunkBytes'] = r.pick([64 * KIB, MIB, 8 * MIB]);
    if (r.chance(0.15)) args['fsync'] = true;
    this.add('create', args);
  }

  open(): void {
    const r = this.r;
    const existing = this.files.filter((f) => f.exists);
    if (existing.length === 0) return this.create();
    const file = r.pick(existing);
    const mode = r.pick(['O_RDWR', 'O_RDWR', 'O_RDWR', 'O_RDONLY', 'O_WRONLY']);
    const flags = [mode, ...r.some(['O_APPEND', 'O_SYNC', 'O_TRUNC'], 0.06)];
    const fd: FdSt = { name: `d${this.fds.length}`, file, writable: mode !== 'O_RDONLY', open: true, mode };
    if (flags.includes('O_TRUNC') && fd.writable) file.size = 0;
    this.fds.push(fd);
    this.add('open', { path: file.path, flags, fd: fd.name });
  }

  mmap(): void {
    const r = this.r;
    // A closed descriptor's name is gone from the scenario (a step on it is a scenario error).
    const live = this.fds.filter((d) => d.open);
    if (live.length === 0) return this.open();
    const fd = r.pick(live);
    const shared = !r.chance(0.25);
    const flags = [shared ? 'MAP_SHARED' : 'MAP_PRIVATE'];
    if (r.chance(0.15)) flags.push('MAP_POPULATE');
    if (this.fs.endsWith('dax') && shared && r.chance(0.3)) flags.splice(0, 1, 'MAP_SHARED_VALIDATE', 'MAP_SYNC');
    else if (r.chance(0.03)) flags.splice(0, 1, 'MAP_SHARED_VALIDATE', 'MAP_SYNC'); // EOPNOTSUPP off DAX
    const prot = r.chance(0.1) ? ['PROT_READ'] : r.chance(0.05) ? ['PROT_NONE'] : ['PROT_READ', 'PROT_WRITE'];
    const fileLen = Math.max(PAGE, fd.file.size);
    const len = r.chance(0.5) ? Math.ceil(fileLen / PAGE) * PAGE : boundarySize(r, 8 * MIB);
    const m: MapSt = { name: `m${this.mapNo++}`, len, fd, writable: prot.includes('PROT_WRITE'), live: true };
    const args: Record<string, unknown> = { fd: fd.name, lengthBytes: len, prot, flags, map: m.name };
    if (r.chance(0.5)) {
      // MAP_FIXED at a 2 MiB boundary or 2 MiB + 4 KiB (PMD-mappable or not), each in its own 16 MiB slot.
      flags.push('MAP_FIXED');
      args['addrBytes'] = FIXED_BASE + 16 * MIB * this.fixedSlot++ + (r.chance(0.5) ? 0 : PAGE);
    }
    if (r.chance(0.12)) args['offsetBytes'] = r.pick([PAGE, 16 * KIB, 2 * MIB, 100]);
    this.add('mmap', args);
    // An mmap that will fail (EBADF, EACCES, EINVAL, EOPNOTSUPP) declares no usable mapping: a later
    // step on it would be a scenario error, not a kernel figure.
    const fails = fd.mode === 'O_WRONLY' || (shared && m.writable && fd.mode !== 'O_RDWR') ||
      args['offsetBytes'] === 100 || (flags.includes('MAP_SYNC') && !this.fs.endsWith('dax'));
    if (!fails) this.maps.push(m);
  }

  /** A step on a mapping: access/load/store/munmap/mprotect/madvise/msync. */
  onMap(): void {
    const r = this.r;
    // No step on a mapping after its munmap: runner.c refills an unmapped hole with its PROT_NONE
    // reservation (to keep placements), so the kernel would see that, not a hole.
    const live = this.maps.filter((x) => x.live);
    if (live.length === 0) return this.mmap();
    const m = r.pick(live);
    const kind = r.pick(['access', 'access', 'access', 'access', 'load', 'store', 'madvise', 'madvise', 'mprotect',
      'msync', 'munmap']);
    const range = (): Record<string, unknown> => {
      const off = boundaryOffset(r, m.len, true);
      const out: Record<string, unknown> = { map: m.name, offsetBytes: off };
      if (r.chance(0.6)) out['lengthBytes'] = Math.min(m.len - off, r.pick([PAGE, 16 * KIB, 64 * KIB, 2 * MIB]));
      return out;
    };
    switch (kind) {
      case 'access': return this.access(m);
      case 'load': return this.add('load', { map: m.name, offsetBytes: boundaryOffset(r, m.len, false) });
      case 'store': {
        const byte = 1 + r.int(255);
        return this.add('store', { map: m.name, offsetBytes: boundaryOffset(r, m.len, false), byte });
      }
      case 'madvise': {
        const advice = r.pick(['MADV_NORMAL', 'MADV_RANDOM', 'MADV_SEQUENTIAL', 'MADV_WILLNEED', 'MADV_DONTNEED',
          'MADV_HUGEPAGE', 'MADV_NOHUGEPAGE', 'MADV_FREE', 'MADV_REMOVE', 'MADV_DONTFORK', 'MADV_DOFORK', 'MADV_COLD',
          'MADV_PAGEOUT', 'MADV_POPULATE_READ', 'MADV_POPULATE_WRITE']);
        return this.add('madvise', { ...range(), advice });
      }
      case 'mprotect': {
        const prot = r.pick([['PROT_READ'], ['PROT_READ', 'PROT_WRITE'], ['PROT_NONE']]);
        return this.add('mprotect', { ...range(), prot });
      }
      case 'msync': return this.add('msync', { ...range(), flags: [r.pick(['MS_SYNC', 'MS_ASYNC', 'MS_INVALIDATE'])] });
      default:
        m.live = false;
        return this.add('munmap', r.chance(0.7) ? { map: m.name } : range());
    }
  }

  access(m: MapSt): void {
    const r = this.r;
    const op = m.writable && r.chance(0.45) ? 'write' : 'read';
    const args: Record<string, unknown> = { map: m.name, op };
    const pages = Math.ceil(m.len / PAGE);
    if (r.chance(0.3)) {
      const n = 1 + r.int(6);
      args['pages'] = Array.from({ length: n }, () => boundaryOffset(r, pages * PAGE, true) / PAGE + r.int(2))
        .map((p) => Math.min(p, pages - 1));
    } else {
      const off = boundaryOffset(r, m.len, true);
      args['offsetBytes'] = off;
      if (r.chance(0.6)) args['lengthBytes'] = Math.min(m.len - off, boundarySize(r, 4 * MIB));
      if (r.chance(0.3)) args['strideBytes'] = r.pick([16 * KIB, 64 * KIB, 2 * MIB]);
    }
    if (r.chance(0.15)) args['order'] = 'descending';
    if (op === 'write' && r.chance(0.3)) args['byte'] = 1 + r.int(255);
    this.add('access', args);
  }

  /** A step on a descriptor: read/write/pread/pwrite/ftruncate/fallocate/fsync/fdatasync/close. */
  onFd(): void {
    const r = this.r;
    const live = this.fds.filter((x) => x.open);
    if (live.length === 0) return this.open();
    const d = r.pick(live);
    const kind = r.pick(['read', 'pread', 'write', 'pwrite', 'pwrite', 'ftruncate', 'ftruncate', 'fallocate',
      'fallocate', 'fsync', 'fdatasync', 'close']);
    const len = (): number => boundarySize(r, 4 * MIB);
    const off = (): number => boundaryOffset(r, Math.max(d.file.size, PAGE) + r.pick([0, 0, 2 * PAGE]), r.chance(0.5));
    switch (kind) {
      case 'read': return this.add('read', { fd: d.name, lengthBytes: len() });
      case 'pread': return this.add('pread', { fd: d.name, lengthBytes: len(), offsetBytes: off() });
      case 'write': return this.add('write', { fd: d.name, lengthBytes: len(), byte: 1 + r.int(255) });
      case 'pwrite': {
        const o = off(), l = len();
        if (d.writable) d.file.size = Math.max(d.file.size, o + l);
        return this.add('pwrite', { fd: d.name, lengthBytes: l, offsetBytes: o, byte: 1 + r.int(255) });
      }
      case 'ftruncate': {
        const size = r.chance(0.5) ? boundaryOffset(r, Math.max(d.file.size, PAGE), r.chance(0.5))
          : boundarySize(r, 8 * MIB);
        if (d.writable) d.file.size = size;
        return this.add('ftruncate', { fd: d.name, sizeBytes: size });
      }
      case 'fallocate': return this.fallocate(d);
      case 'close': d.open = false; return this.add('close', { fd: d.name });
      default: return this.add(kind, { fd: d.name });
    }
  }

  fallocate(d: FdSt): void {
    const r = this.r;
    const mode = r.pick([[], [], ['FALLOC_FL_KEEP_SIZE'], ['FALLOC_FL_PUNCH_HOLE', 'FALLOC_FL_KEEP_SIZE'],
      ['FALLOC_FL_PUNCH_HOLE', 'FALLOC_FL_KEEP_SIZE'], ['FALLOC_FL_ZERO_RANGE'], ['FALLOC_FL_PUNCH_HOLE'],
      ['FALLOC_FL_ZERO_RANGE', 'FALLOC_FL_KEEP_SIZE']]);
    const o = boundaryOffset(r, Math.max(d.file.size, PAGE), r.chance(0.6));
    const l = r.chance(0.1) ? 0 : boundarySize(r, 4 * MIB);
    if (d.writable && !mode.includes('FALLOC_FL_KEEP_SIZE') && !mode.includes('FALLOC_FL_PUNCH_HOLE')) {
      d.file.size = Math.max(d.file.size, o + l);
    }
    this.add('fallocate', { fd: d.name, offsetBytes: o, lengthBytes: l, mode });
  }

  misc(): void {
    const r = this.r;
    const kind = r.pick(['report', 'report', 'stat', 'stat', 'dropCaches', 'unlink']);
    if (kind === 'report') return this.add('report', { name: `r${this.reports++}` });
    const f = r.pick(this.files);
    if (kind === 'dropCaches') return this.add('dropCaches', { value: r.pick([1, 3]) });
    if (kind === 'unlink') f.exists = false;
    this.add(kind, { path: f.path });
  }
}

/** The random program of `seed` for filesystem `fs`: 5-25 steps over 1-3 files of up to 8 MiB. */
export function generate(seed: number, fs: OracleFs): Program {
  const r = new Rng(seed);
  const g = new Gen(r, fs);
  const nFiles = 1 + r.int(r.chance(0.7) ? 1 : 3);
  for (let i = 0; i < nFiles; i++) g.create();
  g.open();
  if (r.chance(0.5)) g.mmap();
  const total = 5 + r.int(21);
  while (g.steps.length < total - 1) {
    const w = r.int(100);
    if (w < 4) g.create();
    else if (w < 9) g.open();
    else if (w < 22 || !g.maps.some((m) => m.live)) g.mmap();
    else if (w < 62) g.onMap();
    else if (w < 85) g.onFd();
    else g.misc();
  }
  g.add('report', { name: 'end' });
  return { seed, fs, steps: g.steps };
}

function yamlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(yamlValue).join(', ')}]`;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 2 ** 32 ? `0x${v.toString(16)}` : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  throw new Error(`fuzz: cannot write ${JSON.stringify(v)} as YAML`);
}

/** A program as a scenario file (YAML), one step per line; tmpfs at /mnt (the batch's --fs puts it elsewhere). */
export function toYaml(p: Program, note = ''): string {
  const lines = [`# daxsim fuzz: seed ${p.seed}, fs ${p.fs}${note ? `; ${note}` : ''}`,
    `name: fuzz seed ${p.seed}`, 'machine: { memoryBytes: 4GiB }', 'mounts:', '  - { fs: tmpfs, target: /mnt }',
    'steps:'];
  for (const st of p.steps) {
    const body = Object.entries(st.args).map(([k, v]) => `${k}: ${yamlValue(v)}`).join(', ');
    lines.push(`  - ${st.op}: { ${body} }`);
  }
  return `${lines.join('\n')}\n`;
}
