// Turns a parsed scenario into the line format src/oracle/runner.c reads: header lines
// (`daxsim-run 1`, `bufsize`, `reserve`, `path`, `mapname`, `knob`) and one `step I OP ...` line
// per step, with flags as Linux x86-64 numbers and every default resolved exactly as the model's
// runner (src/scenario/run.ts) resolves it. A step with no real-kernel equivalent makes the whole
// scenario not runnable (NotRunnableError lists every such step); nothing is skipped silently.

import { flagsToNumber } from '../scenario/run.ts';
import { flagValue } from '../scenario/flags.ts';
import * as C from '../mm/constants.ts';
import type { MountArgs, Scenario, Step, XfsMkfsOptions } from '../scenario/types.ts';
import { accessSequence, stepSeed } from '../scenario/order.ts';
import { accessCount } from '../scenario/steps/access.ts';

/** The filesystems the oracle can run a scenario on. */
export const ORACLE_FS = ['tmpfs', 'ext4', 'ext4-dax', 'xfs-dax'] as const;
export type OracleFs = (typeof ORACLE_FS)[number];

/** Fill byte of write/pwrite steps that give none (run.ts DEFAULT_WRITE_BYTE). */
export const DEFAULT_WRITE_BYTE = 0xab;
/** Byte stored by access writes that give none (run.ts DEFAULT_STORE_BYTE). */
export const DEFAULT_STORE_BYTE = 1;
/** Permission bits of created files (the model keeps none). */
const CREATE_MODE = 0o644;
const GIB = 2 ** 30;
const BUF_MAX = GIB;
const SLOTS = 64;
/** Processes runner.c can run (main and its forked descendants). */
const MAXPROC = 8;

export class NotRunnableError extends Error {
  readonly reasons: string[];
  constructor(source: string, reasons: string[]) {
    super(`${source}: not runnable on a real kernel:\n  ${reasons.join('\n  ')}`);
    this.name = 'NotRunnableError';
    this.reasons = reasons;
  }
}

/** One filesystem the scenario mounts: where, which oracle fs, and the step that mounts it (if a step). */
export interface OracleMount {
  target: string;
  fs: OracleFs;
  stepIndex: number | undefined;
  /** Extra mkfs.xfs arguments (`-d su=...,sw=...,extszinherit=...`); empty for the defaults and other fs. */
  mkfsArgs: string;
  /**
   * The scenario's own tmpfs size options (`size=`, `nr_blocks=`, comma-joined), for the real mount;
   * empty when it gives none, and the real tmpfs then gets the harness's size=2g.
   */
  tmpfsOpts: string;
}

/** The size options of a tmpfs mount (src/mm/shmem-limit.ts), as `mount -o` takes them. */
function tmpfsSizeOpts(m: MountArgs): string {
  if (m.fs !== 'tmpfs' && (m.fs !== undefined || m.device !== undefined)) return '';
  return m.options.filter((o) => o.startsWith('size=') || o.startsWith('nr_blocks=')).join(',');
}

/** mkfs.xfs's `-d` arguments for a scenario's xfs geometry (sizes in 4 KiB blocks for extszinherit). */
export function xfsMkfsArgs(o: XfsMkfsOptions | undefined): string {
  if (!o) return '';
  const d: string[] = [];
  if (o.suBytes > 0) d.push(`su=${o.suBytes / 1024}k`, `sw=${o.sw}`);
  if (o.extsizeBytes > 0) d.push(`extszinherit=${o.extsizeBytes / 4096}`);
  return d.length > 0 ? `-d ${d.join(',')}` : '';
}

function mountFs(m: MountArgs, s: Scenario, fsOfDevice: Map<string, string>): OracleFs | string {
  if (m.fs === 'tmpfs' || (m.fs === undefined && m.device === undefined)) return 'tmpfs';
  const dev = s.machine.devices.find((d) => d.name === m.device);
  if (!dev) return `mount ${m.target}: device ${m.device ?? '(none)'} is not in machine.devices`;
  const fs = m.fs ?? fsOfDevice.get(dev.name) ?? 'ext4';
  const dax = m.options.some((o) => o === 'dax' || o === 'dax=always');
  if (fs === 'xfs') {
    return dev.type === 'pmem' && dax ? 'xfs-dax' : `mount ${m.target}: xfs is offered only on pmem with -o dax`;
  }
  if (fs !== 'ext4') return `mount ${m.target}: filesystem ${fs}`;
  if (dev.type === 'pmem') return dax ? 'ext4-dax' : `mount ${m.target}: ext4 on pmem without dax (not offered)`;
  return dax ? `mount ${m.target}: -o dax on a block device` : 'ext4';
}

/**
 * The scenario's filesystems: `mounts:` entries and the mkfs/mount steps before any other step.
 * Reasons for refusing go into `reasons`.
 */
export function scenarioMounts(s: Scenario, reasons: string[], override?: OracleFs): OracleMount[] {
  const out: OracleMount[] = [];
  const fsOfDevice = new Map<string, string>();
  const xfsOfDevice = new Map<string, XfsMkfsOptions>();
  const add = (m: MountArgs, stepIndex: number | undefined): void => {
    const fs = override ?? mountFs(m, s, fsOfDevice);
    const mkfsArgs = fs === 'xfs-dax' ? xfsMkfsArgs(xfsOfDevice.get(m.device ?? '')) : '';
    if ((ORACLE_FS as readonly string[]).includes(fs)) {
      const tmpfsOpts = fs === 'tmpfs' ? tmpfsSizeOpts(m) : '';
      out.push({ target: m.target, fs: fs as OracleFs, stepIndex, mkfsArgs, tmpfsOpts });
    } else reasons.push(fs);
  };
  for (const m of s.mounts) add(m, undefined);
  for (const st of s.steps) {
    if (st.op === 'mkfs') {
      fsOfDevice.set(st.args.device, st.args.fs);
      xfsOfDevice.set(st.args.device, st.args.xfs);
    }
    else if (st.op === 'mount') add(st.args, st.index);
    else break;
  }
  return out;
}

class Slots {
  private readonly ids = new Map<string, number>();
  private readonly what: string;
  private readonly reasons: string[];
  constructor(what: string, reasons: string[]) {
    this.what = what;
    this.reasons = reasons;
  }
  get(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.ids.size;
      if (id >= SLOTS) this.reasons.push(`more than ${SLOTS} ${this.what}s`);
      this.ids.set(name, id);
    }
    return id;
  }
  entries(): Array<[string, number]> { return [...this.ids]; }
}

/** What encodeScenario needs to know about where it runs. */
export interface EncodeTarget {
  /** Real directory for each mount target of the scenario. */
  dirs: Record<string, string>;
  /**
   * Where the model placed each mmap step that gives no address (step index -> address): the real
   * mapping goes there (MAP_FIXED inside the reservation), as ASLR would make the kernel's own
   * choice differ run to run, and fault-around windows and PMD use depend on it.
   */
  placements?: Record<number, number>;
  /** --fs: every mount on this filesystem instead of the scenario's own. */
  fs?: OracleFs;
  /**
   * Each mount's real directory is a subdirectory of a filesystem mounted for this run alone (the
   * guest's, or the host's private mount), so `remount` steps and `ro` mounts may remount its
   * parent. Unset, they make the scenario not runnable (never remount the host's own /dev/shm).
   */
  remountable?: boolean;
}

export interface Encoded {
  text: string;
  mounts: OracleMount[];
}

const NOT_REAL: Partial<Record<Step['op'], string>> = {
  spawn: 'spawn (a thread, or a fresh process that is no fork) is not run on the real kernel yet',
  copy: 'copy (cp in chunks, or a background copier) is not run on the real kernel yet',
  stop: 'background work (stop) has no single-threaded real equivalent',
  wait: 'background work (wait) has no single-threaded real equivalent',
  umount: 'umount inside a scenario',
  loop: 'loop (a loop of steps, inline or on a thread) is not run on the real kernel yet',
};

/** The filesystem root holding a mount's real directory (its parent: guestDir, the host's private mount). */
function rootOf(dir: string): string {
  return dir.slice(0, dir.lastIndexOf('/')) || '/';
}

/** Encodes `s` for runner.c; throws NotRunnableError naming every step the real kernel cannot run. */
export function encodeScenario(s: Scenario, target: EncodeTarget): Encoded {
  const reasons: string[] = [];
  const mounts = scenarioMounts(s, reasons, target.fs);
  const e = new Encoder(target, mounts, reasons, s.seed);
  const body = s.steps.map((st) => e.step(st));
  for (const [k, v] of Object.entries(s.kernel.knobs)) {
    if (k === 'faultAroundBytes' && typeof v === 'number') e.header.push(`knob fault_around_bytes ${v}`);
    else reasons.push(`kernel.${k}: this knob has no real-kernel setting in the runner`);
  }
  if (reasons.length > 0) throw new NotRunnableError(s.source, [...new Set(reasons)]);
  const head = ['daxsim-run 1', `bufsize ${e.bufBytes}`];
  for (const [name, id] of e.procs.entries()) head.push(`proc ${id} ${name}`);
  if (e.resvHi > e.resvLo) head.push(`reserve 0x${e.resvLo.toString(16)} 0x${(e.resvHi - e.resvLo).toString(16)}`);
  for (const m of mounts) head.push(`dir ${target.dirs[m.target] ?? '/nonexistent'}`);
  for (const [p, id] of e.paths.entries()) head.push(`path ${id} ${e.realPath(p)} ${p}`);
  const roMounts = [...s.mounts, ...s.steps.flatMap((st) => (st.op === 'mount' ? [st.args] : []))]
    .filter((m) => m.options.includes('ro'));
  for (const m of roMounts) head.push(`ro ${e.mountRoot(m.target, 'a read-only mount')}`);
  for (const [m, id] of e.maps.entries()) head.push(`mapname ${id} ${m}`);
  return { text: [...head, ...e.header, ...body, ''].join('\n'), mounts };
}

class Encoder {
  readonly header: string[] = [];
  readonly paths: Slots;
  readonly maps: Slots;
  /** Processes: main is 0, forked children follow in fork order (at most 8: runner.c MAXPROC). */
  readonly procs: Slots;
  private readonly fds: Slots;
  private readonly mapLength = new Map<string, number>();
  private readonly targets: string[];
  bufBytes = 4096;
  resvLo = Infinity;
  resvHi = 0;
  private setupDone = false;
  private readonly forked = new Set<string>();
  private readonly t: EncodeTarget;
  private readonly reasons: string[];

  private readonly seed: number;

  constructor(t: EncodeTarget, mounts: OracleMount[], reasons: string[], seed: number) {
    this.seed = seed;
    this.t = t;
    this.reasons = reasons;
    this.paths = new Slots('file path', reasons);
    this.maps = new Slots('mapping', reasons);
    this.fds = new Slots('file descriptor', reasons);
    this.procs = new Slots('process', reasons);
    this.procs.get('main');
    // Longest target first, so /mnt/a/b wins over /mnt/a.
    this.targets = mounts.map((m) => m.target).sort((a, b) => b.length - a.length);
  }

  /** The real root to remount for mount `target`, or a reason and a placeholder when there is none. */
  mountRoot(target: string, what: string): string {
    const dir = this.t.dirs[target];
    if (dir === undefined || !this.targets.includes(target)) {
      this.reasons.push(`${what}: ${target} is not a mount of the scenario`);
      return '/nonexistent';
    }
    if (!this.t.remountable) {
      this.reasons.push(`${what}: needs a filesystem mounted for the run alone (this target offers none)`);
      return '/nonexistent';
    }
    return rootOf(dir);
  }

  /** The real path of a scenario path, under the real directory of its mount. */
  realPath(p: string): string {
    const tgt = this.targets.find((m) => p === m || p.startsWith(m.endsWith('/') ? m : `${m}/`));
    if (tgt === undefined) return p;
    const dir = this.t.dirs[tgt];
    if (dir === undefined) throw new Error(`encode: no real directory for mount ${tgt}`);
    return dir + p.slice(tgt.length);
  }

  private path(st: Step, p: string): number {
    if (/\s/.test(p)) this.reasons.push(`steps[${st.index}]: path ${JSON.stringify(p)} has white space`);
    if (!this.targets.some((m) => p.startsWith(m.endsWith('/') ? m : `${m}/`))) {
      this.reasons.push(`steps[${st.index}] (${st.op}): ${p} is on no filesystem the scenario mounts`);
    }
    return this.paths.get(p);
  }

  private buf(n: number): void {
    if (n > BUF_MAX) this.reasons.push(`an I/O buffer of ${n} bytes (more than 1 GiB): give chunkBytes`);
    else this.bufBytes = Math.max(this.bufBytes, n);
  }

  /** [offset, length] of a map range step, the length defaulting to the rest of the mapping. */
  private range(a: { map: string; offsetBytes: number; lengthBytes: number | undefined }): string {
    const len = a.lengthBytes ?? Math.max(0, (this.mapLength.get(a.map) ?? 0) - a.offsetBytes);
    return `${this.maps.get(a.map)} ${a.offsetBytes} ${len}`;
  }

  step(st: Step): string {
    const why = NOT_REAL[st.op];
    if (why !== undefined) this.reasons.push(`steps[${st.index}] (${st.op}): ${why}`);
    if (st.thread !== undefined) {
      this.reasons.push(`steps[${st.index}] (${st.op}): runs on thread ${st.thread}; the runner has no threads`);
    }
    if (st.op !== 'mkfs' && st.op !== 'mount') this.setupDone = true;
    const who = this.procOf(st, st.process ?? 'main');
    return `step ${st.index} ${who === 0 ? '' : `@${who} `}${this.args(st)}`;
  }

  /** The process slot of `name`: it must be main or a child an earlier fork step made. */
  private procOf(st: Step, name: string): number {
    if (name !== 'main' && !this.forked.has(name)) {
      this.reasons.push(`steps[${st.index}] (${st.op}): process ${name} is not made by an earlier fork step`);
    }
    const id = this.procs.get(name);
    if (id >= MAXPROC) this.reasons.push(`more than ${MAXPROC} processes`);
    return id;
  }

  /** mincore: `mincore MAP OFF LEN`, with a buffer for the vector. */
  private mincore(a: { map: string; offsetBytes: number; lengthBytes?: number }): string {
    const len = a.lengthBytes ?? Math.max(0, (this.mapLength.get(a.map) ?? 0) - a.offsetBytes);
    this.buf(Math.ceil(len / 4096));
    return `mincore ${this.range({ map: a.map, offsetBytes: a.offsetBytes, lengthBytes: a.lengthBytes })}`;
  }

  /** memcpy: `memcpy MAP OFF FROMMAP FROMOFF LEN`. */
  private memcpy(a: { map: string; offsetBytes: number; fromMap: string; fromOffsetBytes: number;
    lengthBytes: number }): string {
    return `memcpy ${this.maps.get(a.map)} ${a.offsetBytes} ${this.maps.get(a.fromMap)} ${a.fromOffsetBytes} ` +
      `${a.lengthBytes}`;
  }

  /** fork: `fork PROC`, the child's process number. */
  private fork(child: string): string {
    this.forked.add(child);
    return `fork ${this.procs.get(child)}`;
  }

  private args(st: Step): string {
    switch (st.op) {
      case 'create': {
        const a = st.args;
        if (a.content === 'written') this.buf(Math.min(a.writeChunkBytes, Math.max(a.sizeBytes, 1)));
        return `create ${this.path(st, a.path)} ${a.sizeBytes} ${a.content === 'written' ? 'W' : 'S'} ` +
          `${a.writeChunkBytes} ${a.fsync ? 1 : 0} ${a.mode ?? CREATE_MODE}`;
      }
      case 'open':
        return `open ${this.fds.get(st.args.fd)} ${this.path(st, st.args.path)} ${flagsToNumber(st.args.flags)}`;
      case 'close': case 'fsync': case 'fdatasync': return `${st.op} ${this.fds.get(st.args.fd)}`;
      case 'read': case 'write': case 'pread': case 'pwrite': return this.io(st);
      case 'ftruncate': return `ftruncate ${this.fds.get(st.args.fd)} ${st.args.sizeBytes}`;
      case 'fallocate': {
        const a = st.args;
        return `fallocate ${this.fds.get(a.fd)} ${flagsToNumber(a.mode)} ${a.offsetBytes} ${a.lengthBytes}`;
      }
      case 'unlink': case 'stat': case 'mkdir': return `${st.op} ${this.path(st, st.args.path)}`;
      case 'mmap': return this.mmap(st);
      case 'munmap': return `munmap ${this.range(st.args)}`;
      case 'mprotect': return `mprotect ${this.range(st.args)} ${flagsToNumber(st.args.prot)}`;
      case 'madvise': return `madvise ${this.range(st.args)} ${flagValue(st.args.advice)}`;
      case 'msync': return `msync ${this.range(st.args)} ${flagsToNumber(st.args.flags)}`;
      case 'access': return this.access(st);
      case 'load': return `loadw ${this.maps.get(st.args.map)} ${st.args.offsetBytes} ${st.args.sizeBytes}`;
      case 'store': {
        const a = st.args;
        return `storew ${this.maps.get(a.map)} ${a.offsetBytes} ${a.bytes.length} ${hex(a.bytes)}`;
      }
      case 'memset': return `memset ${this.range(st.args)} ${st.args.byte}`;
      case 'memcpy': return this.memcpy(st.args);
      case 'mincore': return this.mincore(st.args);
      case 'flush': {
        const a = st.args;
        return `flush ${this.maps.get(a.map)} ${a.offsetBytes} ${a.lengthBytes} ${a.insn}`;
      }
      case 'fence': return `fence ${st.args.insn}`;
      case 'dropCaches': return `dropcaches ${st.args.value}`;
      case 'setKnob': {
        const a = st.args;
        if (a.name !== 'faultAroundBytes' || typeof a.value !== 'number') {
          const what = `steps[${st.index}] (setKnob ${a.name})`;
          this.reasons.push(`${what}: only faultAroundBytes can be set on a real kernel`);
        }
        return `setknob fault_around_bytes ${typeof a.value === 'number' ? a.value : 0}`;
      }
      case 'sleep': return `sleep ${st.args.durationNs}`;
      case 'report': return `report ${st.args.name.replace(/\s/g, '_')}`;
      case 'fork': return this.fork(st.args.child);
      case 'exit': return `exit ${st.args.status}`;
      case 'waitpid': return `waitpid ${this.procs.get(st.args.child)}`;
      case 'mremap': return this.mremap(st);
      case 'mlock': return `mlock ${this.range(st.args)} ${flagsToNumber(st.args.flags)}`;
      case 'munlock': return `munlock ${this.range(st.args)}`;
      case 'mlockall': return `mlockall ${flagsToNumber(st.args.flags)}`;
      case 'munlockall': return 'munlockall';
      case 'remount':
        return `remount ${this.mountRoot(st.args.target, `steps[${st.index}] (remount)`)} ` +
          `${st.args.mode === 'ro' ? 1 : 0}`;
      case 'mkfs': case 'mount':
        if (this.setupDone) this.reasons.push(`steps[${st.index}] (${st.op}): mkfs/mount after other steps`);
        return `setup ${st.op}`;
      default: return `${st.op}`;
    }
  }

  /**
   * read/write/pread/pwrite: `OP FD LEN CHUNK [OFF] [SRC]`, SRC for writes the fill byte, `h:HEX`
   * (a cyclic byte sequence) or `r:SEED` (the seeded stream, runner.c data_byte); a buffer inside a
   * mapping is `m:SLOT:OFF` (as SRC for writes, appended for reads); `a:N` last uses the runner's
   * page-aligned buffer from byte N (bufferOffsetBytes: a misaligned address for O_DIRECT).
   */
  private io(st: Step & { op: 'read' | 'write' | 'pread' | 'pwrite' }): string {
    const a = st.args;
    if (a.buffer === undefined) this.buf((a.chunkBytes ?? Math.max(a.lengthBytes, 1)) + a.bufferOffsetBytes);
    const ub = a.buffer === undefined ? undefined : `m:${this.maps.get(a.buffer.map)}:${a.buffer.offsetBytes}`;
    const at = a.bufferOffsetBytes > 0 ? ` a:${a.bufferOffsetBytes}` : '';
    let line = `${st.op} ${this.fds.get(a.fd)} ${a.lengthBytes} ${a.chunkBytes ?? 0}`;
    if (st.op === 'pread' || st.op === 'pwrite') line += ` ${st.args.offsetBytes}`;
    if (st.op === 'write' || st.op === 'pwrite') {
      const d = st.args.data;
      const src = ub ?? (d === undefined ? `${st.args.byte ?? DEFAULT_WRITE_BYTE}`
        : d.kind === 'bytes' ? `h:${hex(d.bytes)}` : `r:${d.seed}`);
      if (d?.kind === 'bytes' && d.bytes.length > 4096) this.reasons.push(`steps[${st.index}]: data over 4096 bytes`);
      line += ` ${src}`;
    } else line += ` ${ub ?? (at === '' ? '' : '0')}`;
    return (line + at).trimEnd();
  }

  private mmap(st: Step & { op: 'mmap' }): string {
    const a = st.args;
    this.mapLength.set(a.map, a.lengthBytes);
    if (a.lengthBytes > 8 * GIB) this.reasons.push(`steps[${st.index}] (mmap): mappings over 8 GiB`);
    const placed = a.addrBytes === undefined ? this.t.placements?.[st.index] : undefined;
    const at = a.addrBytes ?? placed;
    if (at !== undefined) {
      this.resvLo = Math.min(this.resvLo, Math.floor(at / GIB) * GIB);
      this.resvHi = Math.max(this.resvHi, Math.ceil((at + a.lengthBytes) / GIB) * GIB);
    }
    const fd = a.fd === undefined ? 0 : this.fds.get(a.fd) + 1;
    const flags = (flagsToNumber(a.flags) | (placed !== undefined ? C.MAP_FIXED : 0)) >>> 0;
    return `mmap ${this.maps.get(a.map)} ${fd} ${a.lengthBytes} ${flagsToNumber(a.prot)} ${flags} ` +
      `${at === undefined ? 0 : at + 1} ${a.offsetBytes}`;
  }

  /**
   * mremap MAP OFF OLDLEN NEWLEN FLAGS NEWADDR+1 PLACE+1: the new address of MREMAP_FIXED (or a
   * DONTUNMAP hint), and where the model's move went, which runner.c takes with MREMAP_FIXED when
   * it is not the old range's own address (0: none).
   */
  private mremap(st: Step & { op: 'mremap' }): string {
    const a = st.args;
    const oldLen = a.oldLengthBytes ?? Math.max(0, (this.mapLength.get(a.map) ?? 0) - a.offsetBytes);
    const place = this.t.placements?.[st.index];
    // The map follows its range after a mremap the model made succeed (steps/procs.ts).
    const len = this.mapLength.get(a.map) ?? 0;
    if (place !== undefined && a.offsetBytes === 0 && oldLen >= len) this.mapLength.set(a.map, a.newLengthBytes);
    else if (place !== undefined && a.offsetBytes + a.newLengthBytes <= len) {
      this.mapLength.set(a.map, a.offsetBytes + a.newLengthBytes);
    }
    const na = a.newAddrBytes;
    for (const at of [na, place]) {
      if (at === undefined) continue;
      this.resvLo = Math.min(this.resvLo, Math.floor(at / GIB) * GIB);
      this.resvHi = Math.max(this.resvHi, Math.ceil((at + a.newLengthBytes) / GIB) * GIB);
    }
    return `mremap ${this.maps.get(a.map)} ${a.offsetBytes} ${oldLen} ${a.newLengthBytes} ${flagsToNumber(a.flags)} ` +
      `${na === undefined ? 0 : na + 1} ${place === undefined ? 0 : place + 1}`;
  }

  private access(st: Step & { op: 'access' }): string {
    const a = st.args;
    if (a.background) this.reasons.push(`steps[${st.index}] (access): background accesses need threads`);
    const head = `${this.maps.get(a.map)} ${a.op === 'write' ? 'W' : 'R'} ${a.byte ?? DEFAULT_STORE_BYTE}`;
    const dir = a.order === 'descending' ? 'D' : 'A';
    const sp = a.span;
    const mapLen = this.mapLength.get(a.map) ?? 0;
    const len = sp.kind === 'pages' ? 0 : sp.lengthBytes ?? Math.max(0, mapLen - sp.offsetBytes);
    const seq = accessSequence(a, accessCount(a, this.mapLength.get(a.map) ?? 0), stepSeed(this.seed, a.orderIndex));
    if (seq !== null) {
      // A random order runs as the page list the model's runner draws (src/scenario/order.ts).
      if (sp.kind === 'range' && (sp.offsetBytes % 4096 !== 0 || sp.strideBytes % 4096 !== 0)) {
        this.reasons.push(`steps[${st.index}] (access): a random order needs page-aligned offset and stride`);
      }
      const page = (j: number): number => (sp.kind === 'pages' ? sp.pages[j]!
        : (sp.offsetBytes + j * sp.strideBytes) / 4096);
      return `accessp ${head} A ${seq.length} ${Array.from(seq, page).join(' ')}`;
    }
    if (sp.kind === 'pages') return `accessp ${head} ${dir} ${sp.pages.length} ${sp.pages.join(' ')}`;
    return `accessr ${head} ${sp.offsetBytes} ${sp.strideBytes} ${Math.ceil(len / sp.strideBytes)} ${dir}`;
  }
}


/** Bytes as lowercase hex, two digits each. */
function hex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

