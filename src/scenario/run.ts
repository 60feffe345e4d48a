// Runs a parsed Scenario on the API (src/api/machine.ts): builds the machine, mounts, executes
// each step on its process or thread, records per-step results, captures reports, and checks
// every `expect`. Problems that make a scenario impossible to run (an unsupported feature, a
// name whose creating step failed) are thrown as ScenarioError naming the step; mismatches with
// `expect` are collected as failure messages instead.

import { runConcurrently, type Worker } from '../kernel/sched.ts';
import { Machine, type DeviceConfig, type Process } from '../api/machine.ts';
import { EINVAL, errnoName } from '../lib/errno.ts';
import * as C from '../mm/constants.ts';
import { ScenarioError } from './types.ts';
import type { Expect, FlagSet, Scenario, Step } from './types.ts';

const PAGE_BYTES = 4096;
const DEFAULT_PROFILE = 'linux-6.18';
/** Fill byte of `write`/`pwrite` steps that give none. */
const DEFAULT_WRITE_BYTE = 0xab;
/** Value stored by `access: { op: write }` steps that give none. */
const DEFAULT_STORE_BYTE = 1;

export interface SignalRecord {
  signal: 'SIGBUS' | 'SIGSEGV' | 'SIGKILL' | string;
  /** Faulting virtual address. */
  addr: number;
  /** Page index of addr from the start of the mapping. */
  page: number;
}

export interface StepResult {
  index: number;
  op: Step['op'];
  /** The call's return value (bytes, address, 0...), or an object (stat), or -errno / -signo. */
  result: number | object;
  /** Name of the errno when result is negative and no signal was raised. */
  errno?: string;
  signal?: SignalRecord;
  /** Simulated time the step took on its task's clock. */
  simNs: number;
  /** Host wall time of the step (0 when collectHostTime is false). */
  hostWallNs: number;
}

export interface FileFigures {
  sizeBytes: number;
  blocks: number;
  /** DAX files: entries in the mapping's tree, and those marked DIRTY. */
  daxEntries?: number;
  daxDirtyEntries?: number;
}

export interface Report {
  /** /proc/vmstat deltas since the previous report (or the start). */
  vmstat: Record<string, number>;
  /** getrusage fault deltas, summed over every process. */
  rusage: { minflt: number; majflt: number };
  /** /proc/meminfo, absolute, kB. */
  meminfo: Record<string, number>;
  /** Model event deltas (machine.modelEvents()). */
  events: Record<string, number>;
  /** smaps figures by map name, absolute; maps no longer mapped are left out. */
  smaps: Record<string, Record<string, number | string>>;
  /** stat figures by path of every file created or opened so far that still exists. */
  files: Record<string, FileFigures>;
}

export interface RunResult {
  name: string;
  profile: string;
  reports: Record<string, Report>;
  steps: StepResult[];
  failures: string[];
}

export interface RunOptions {
  /** Measure host wall time per step (default true). Off gives byte-identical results run to run. */
  collectHostTime?: boolean;
  /** Called with the machine as soon as it exists, before any mount (the crash explorer attaches here). */
  onMachine?: (m: Machine) => void;
}

// ---- Flag translation ----

const FLAG_VALUES: Readonly<Record<string, number>> = {
  O_RDONLY: C.O_RDONLY, O_WRONLY: C.O_WRONLY, O_RDWR: C.O_RDWR, O_CREAT: C.O_CREAT, O_TRUNC: C.O_TRUNC,
  O_APPEND: C.O_APPEND, O_DIRECT: C.O_DIRECT, O_SYNC: C.O_SYNC, O_DSYNC: C.O_DSYNC,
  PROT_NONE: C.PROT_NONE, PROT_READ: C.PROT_READ, PROT_WRITE: C.PROT_WRITE, PROT_EXEC: C.PROT_EXEC,
  MAP_SHARED: C.MAP_SHARED, MAP_PRIVATE: C.MAP_PRIVATE, MAP_SHARED_VALIDATE: C.MAP_SHARED_VALIDATE,
  MAP_FIXED: C.MAP_FIXED, MAP_FIXED_NOREPLACE: C.MAP_FIXED_NOREPLACE, MAP_ANONYMOUS: C.MAP_ANONYMOUS,
  MAP_POPULATE: C.MAP_POPULATE, MAP_SYNC: C.MAP_SYNC, MAP_NORESERVE: C.MAP_NORESERVE, MAP_LOCKED: C.MAP_LOCKED,
  MAP_NONBLOCK: C.MAP_NONBLOCK, MAP_STACK: C.MAP_STACK, MAP_HUGETLB: C.MAP_HUGETLB, MAP_GROWSDOWN: C.MAP_GROWSDOWN,
  MAP_DENYWRITE: C.MAP_DENYWRITE, MAP_EXECUTABLE: C.MAP_EXECUTABLE, MAP_32BIT: C.MAP_32BIT,
  MAP_UNINITIALIZED: C.MAP_UNINITIALIZED,
  MS_SYNC: C.MS_SYNC, MS_ASYNC: C.MS_ASYNC, MS_INVALIDATE: C.MS_INVALIDATE,
  FALLOC_FL_KEEP_SIZE: C.FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE: C.FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE: C.FALLOC_FL_ZERO_RANGE,
  MADV_NORMAL: C.MADV_NORMAL, MADV_RANDOM: C.MADV_RANDOM, MADV_SEQUENTIAL: C.MADV_SEQUENTIAL,
  MADV_WILLNEED: C.MADV_WILLNEED, MADV_DONTNEED: C.MADV_DONTNEED, MADV_HUGEPAGE: C.MADV_HUGEPAGE,
  MADV_NOHUGEPAGE: C.MADV_NOHUGEPAGE, MADV_FREE: C.MADV_FREE, MADV_REMOVE: C.MADV_REMOVE, MADV_DONTFORK: C.MADV_DONTFORK,
  MADV_DOFORK: C.MADV_DOFORK, MADV_COLD: C.MADV_COLD, MADV_PAGEOUT: C.MADV_PAGEOUT,
  MADV_POPULATE_READ: C.MADV_POPULATE_READ, MADV_POPULATE_WRITE: C.MADV_POPULATE_WRITE,
};

function flagValue(name: string): number {
  const v = FLAG_VALUES[name];
  if (v === undefined) throw new Error(`scenario runner: no numeric value for flag ${name}`);
  return v;
}

/** The OR of a flag set's named bits and its extra bits, as an unsigned 32-bit number. */
export function flagsToNumber(set: FlagSet<string>): number {
  let bits = set.extraBits;
  for (const n of set.names) bits |= flagValue(n);
  return bits >>> 0;
}

function signalNameOf(signo: number): string {
  return signo === 7 ? 'SIGBUS' : signo === 11 ? 'SIGSEGV' : signo === 9 ? 'SIGKILL' : `SIG${signo}`;
}

/** The byte a `create: { content: written }` step fills file page `pageIndex` with. */
export function createPageByte(pageIndex: number): number {
  return ((pageIndex * 7 + 1) & 0xff) || 1;
}

// ---- Counters ----

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}

interface Counters {
  vmstat: Record<string, number>;
  rusage: { minflt: number; majflt: number };
  events: Record<string, number>;
}

// ---- The runner ----

interface FdRecord { processName: string; fd: number; path: string }
interface MapRecord { processName: string; addr: number; lengthBytes: number; unmapped?: boolean }

class Runner {
  readonly s: Scenario;
  readonly machine: Machine;
  readonly hostTime: boolean;
  readonly processes = new Map<string, Process>();
  /** Thread name -> its Process handle and the name of its process. */
  readonly threads = new Map<string, { proc: Process; processName: string }>();
  readonly fds = new Map<string, FdRecord>();
  readonly maps = new Map<string, MapRecord>();
  /** Paths created or opened so far, in first-use order. */
  readonly paths = new Set<string>();
  readonly result: RunResult;
  private baseline: Counters;
  private chunkBuffer: Uint8Array | null = null;

  constructor(s: Scenario, opts: RunOptions) {
    this.s = s;
    this.hostTime = opts.collectHostTime ?? true;
    const profile = s.kernel.profile ?? DEFAULT_PROFILE;
    const devices: DeviceConfig[] = s.machine.devices.map((d) => {
      const cfg: DeviceConfig = { name: d.name, type: d.type, sizeBytes: d.sizeBytes };
      if (d.latencyNs !== undefined) cfg.latencyNs = d.latencyNs;
      if (d.readAheadKb !== undefined) cfg.readAheadKb = d.readAheadKb;
      if (d.maxSectorsKb !== undefined) cfg.maxSectorsKb = d.maxSectorsKb;
      if (d.placement !== undefined) cfg.placement = d.placement;
      return cfg;
    });
    try {
      this.machine = new Machine({ profile, knobs: s.kernel.knobs, memoryBytes: s.machine.memoryBytes, cpus: s.machine.cpus, devices });
      opts.onMachine?.(this.machine);
    } catch (e) {
      throw new ScenarioError('kernel', e instanceof Error ? e.message : String(e), s.source);
    }
    this.result = { name: s.name ?? s.source, profile, reports: {}, steps: [], failures: [] };
    this.process('main');
    this.baseline = this.counters();
  }

  process(name: string): Process {
    let p = this.processes.get(name);
    if (!p) {
      p = this.machine.process(name);
      this.processes.set(name, p);
    }
    return p;
  }

  /** The handle a step runs on: its thread (created on first use) or its process's first thread. */
  taskFor(step: Step): { proc: Process; processName: string } {
    if (step.thread === undefined) {
      const processName = step.process ?? 'main';
      return { proc: this.process(processName), processName };
    }
    const t = this.threads.get(step.thread);
    if (t && step.op === 'spawn') this.fail(step, `thread "${step.thread}" already exists`);
    if (t) {
      if (step.process !== undefined && step.process !== t.processName) {
        this.fail(step, `thread "${step.thread}" belongs to process "${t.processName}", not "${step.process}"`);
      }
      return t;
    }
    const processName = step.process ?? 'main';
    const created = { proc: this.machine.thread(this.process(processName), step.thread), processName };
    this.threads.set(step.thread, created);
    return created;
  }

  fail(step: Step, detail: string): never {
    throw new ScenarioError(where(step), detail, this.s.source, step.line);
  }

  counters(): Counters {
    let minflt = 0, majflt = 0;
    for (const p of this.processes.values()) {
      const r = p.rusage();
      minflt += r.minflt;
      majflt += r.majflt;
    }
    return { vmstat: this.machine.vmstat(), rusage: { minflt, majflt }, events: this.machine.modelEvents() };
  }

  mountAll(): void {
    this.s.mounts.forEach((m, i) => {
      let r: number;
      if (m.fs === 'tmpfs') {
        r = this.machine.mount(m.target, 'tmpfs', undefined, m.options);
      } else {
        const device = m.device ?? '';
        const mk = this.machine.mkfs(device, 'ext4');
        if (mk < 0) throw new ScenarioError(`mounts[${i}]`, `mkfs ext4 on ${device} failed: ${errnoName(-mk)}`, this.s.source);
        r = this.machine.mount(m.target, 'ext4', device, m.options);
      }
      if (r < 0) throw new ScenarioError(`mounts[${i}]`, `mount ${m.target} failed: ${errnoName(-r)}`, this.s.source);
    });
  }

  fd(step: Step, name: string, processName: string): number {
    const f = this.fds.get(name);
    if (!f) this.fail(step, `fd "${name}" does not exist (its open step failed)`);
    if (f.processName !== processName) this.fail(step, `fd "${name}" belongs to process "${f.processName}", not "${processName}"`);
    return f.fd;
  }

  map(step: Step, name: string, processName: string): MapRecord {
    const m = this.maps.get(name);
    if (!m) this.fail(step, `map "${name}" does not exist (its mmap step failed)`);
    if (m.processName !== processName) this.fail(step, `map "${name}" belongs to process "${m.processName}", not "${processName}"`);
    return m;
  }

  run(): RunResult {
    this.mountAll();
    for (const step of this.s.steps) this.runStep(step);
    this.background.length = 0;
    return this.result;
  }

  /**
   * Background work (copy or access with background: true) that runs alongside the following
   * steps. `finite` work (an access) ends by itself and is joined by `wait`; a copy loops until
   * `stop`. `signal` is where a background access that took a signal records it for `wait`.
   */
  private readonly background: Array<Worker & { thread: string; finite: boolean; done: boolean; signal?: SignalRecord }> = [];

  private live(): Worker[] {
    return this.background.filter((w) => !w.done);
  }

  /**
   * Run `unit` (one page of an access, or a whole step) on `p`'s task under the scheduler together
   * with the background workers, until `unit` says it is done. Without background work it just
   * loops, with no scheduler overhead.
   */
  private runWithBackground(p: Process, unit: () => boolean): void {
    const bg = this.live();
    if (bg.length === 0) {
      while (unit()) { /* one unit at a time */ }
      return;
    }
    const fg: Worker = { task: p.task, step: unit };
    runConcurrently(this.machine.k, [fg, ...bg], [fg], Math.max(this.s.machine.cpus, 1));
  }

  /** cp from -> to in chunks; one chunk per call; returns false at the end of the source. */
  private copier(p: Process, a: { from: string; to: string; chunkBytes: number }, loop: boolean): () => boolean {
    const src = p.open(a.from, C.O_RDONLY);
    if (src < 0) throw new ScenarioError('copy.from', `cannot open ${a.from}: ${errnoName(-src)}`, this.s.source);
    let dst = p.open(a.to, C.O_RDWR | C.O_CREAT | C.O_TRUNC);
    if (dst < 0) throw new ScenarioError('copy.to', `cannot open ${a.to}: ${errnoName(-dst)}`, this.s.source);
    const buf = new Uint8Array(a.chunkBytes);
    let off = 0;
    return () => {
      const n = p.pread(src, a.chunkBytes, off, buf);
      if (n > 0) p.pwrite(dst, n, off, n === buf.length ? buf : buf.subarray(0, n));
      off += Math.max(n, 0);
      if (n < a.chunkBytes) {
        if (!loop) { p.close(src); p.close(dst); return false; }
        off = 0;
        p.close(dst);
        dst = p.open(a.to, C.O_RDWR | C.O_CREAT | C.O_TRUNC);
      }
      return true;
    };
  }

  runStep(step: Step): void {
    const { proc, processName } = this.taskFor(step);
    const wantsStepCounters = step.op !== 'report' && step.expect !== undefined &&
      (step.expect.vmstat !== undefined || step.expect.rusage !== undefined || step.expect.events !== undefined);
    const before = wantsStepCounters ? this.counters() : null;
    const clockBefore = proc.task.clockNs;
    const hostBefore = this.hostTime ? process.hrtime.bigint() : 0n;
    let out: { result: number | object; signal?: SignalRecord } = { result: 0 };
    if (step.op === 'access' || step.op === 'wait' || this.live().length === 0) out = this.exec(step, proc, processName);
    else this.runWithBackground(proc, () => { out = this.exec(step, proc, processName); return false; });
    const hostNs = this.hostTime ? Number(process.hrtime.bigint() - hostBefore) : 0;
    const sr: StepResult = { index: step.index, op: step.op, result: out.result, simNs: proc.task.clockNs - clockBefore, hostWallNs: hostNs };
    if (out.signal !== undefined) sr.signal = out.signal;
    else if (typeof out.result === 'number' && out.result < 0) sr.errno = errnoName(-out.result);
    this.result.steps.push(sr);

    if (step.expect === undefined) return;
    if (step.op === 'report') {
      const rep = this.result.reports[step.args.name];
      if (!rep) throw new Error(`scenario runner: report ${step.args.name} was not recorded`);
      this.check(step, step.expect, sr, rep);
    } else {
      const after = before === null ? null : this.counters();
      const figures: Report = {
        vmstat: after && before ? delta(after.vmstat, before.vmstat) : {},
        rusage: after && before
          ? { minflt: after.rusage.minflt - before.rusage.minflt, majflt: after.rusage.majflt - before.rusage.majflt }
          : { minflt: 0, majflt: 0 },
        events: after && before ? delta(after.events, before.events) : {},
        meminfo: step.expect.meminfo ? this.machine.meminfo() : {},
        smaps: step.expect.smaps ? this.smaps() : {},
        files: step.expect.files ? this.files() : {},
      };
      this.check(step, step.expect, sr, figures);
    }
  }

  smaps(): Record<string, Record<string, number | string>> {
    const out: Record<string, Record<string, number | string>> = {};
    for (const [name, m] of this.maps) {
      if (m.unmapped) continue;
      const r = this.process(m.processName).smaps(m.addr);
      if (typeof r !== 'number') out[name] = r;
    }
    return out;
  }

  files(): Record<string, FileFigures> {
    const out: Record<string, FileFigures> = {};
    const p = this.process('main');
    for (const path of this.paths) {
      const r = p.stat(path);
      if (typeof r !== 'number') {
        out[path] = { sizeBytes: r.sizeBytes, blocks: r.blocks };
        if (r.daxEntries !== undefined) Object.assign(out[path]!, { daxEntries: r.daxEntries, daxDirtyEntries: r.daxDirtyEntries });
      }
    }
    return out;
  }

  report(name: string): Report {
    const now = this.counters();
    const rep: Report = {
      vmstat: delta(now.vmstat, this.baseline.vmstat),
      rusage: { minflt: now.rusage.minflt - this.baseline.rusage.minflt, majflt: now.rusage.majflt - this.baseline.rusage.majflt },
      meminfo: this.machine.meminfo(),
      events: delta(now.events, this.baseline.events),
      smaps: this.smaps(),
      files: this.files(),
    };
    this.baseline = now;
    this.result.reports[name] = rep;
    return rep;
  }

  /** Writes [0, sizeBytes) of fd in chunks, each page filled with createPageByte(page index). */
  private writeContent(p: Process, fd: number, sizeBytes: number, chunkBytes: number): number {
    for (let off = 0; off < sizeBytes; off += chunkBytes) {
      const len = Math.min(chunkBytes, sizeBytes - off);
      let r: number;
      if (off % PAGE_BYTES === 0 && len <= PAGE_BYTES) {
        r = p.pwrite(fd, len, off, createPageByte(off / PAGE_BYTES));
      } else {
        if (this.chunkBuffer === null || this.chunkBuffer.length < len) this.chunkBuffer = new Uint8Array(len);
        const buf = this.chunkBuffer.subarray(0, len);
        let i = 0;
        while (i < len) {
          const page = Math.floor((off + i) / PAGE_BYTES);
          const end = Math.min(len, (page + 1) * PAGE_BYTES - off);
          buf.fill(createPageByte(page), i, end);
          i = end;
        }
        r = p.pwrite(fd, len, off, buf);
      }
      if (r < 0) return r;
      if (r !== len) throw new Error(`create: short write of ${r} bytes at offset ${off} (asked ${len})`);
    }
    return 0;
  }

  /** read/write/pread/pwrite in chunks; returns bytes moved or the first -errno. */
  private transfer(lengthBytes: number, chunkBytes: number | undefined, call: (offset: number, len: number) => number): number {
    const chunk = chunkBytes ?? Math.max(lengthBytes, 1);
    let done = 0;
    while (done < lengthBytes) {
      const len = Math.min(chunk, lengthBytes - done);
      const r = call(done, len);
      if (r < 0) return done > 0 ? done : r;
      done += r;
      if (r < len) break;
    }
    return done;
  }

  exec(step: Step, p: Process, pn: string): { result: number | object; signal?: SignalRecord } {
    switch (step.op) {
      case 'create': {
        const a = step.args;
        const fd = p.open(a.path, C.O_CREAT | C.O_RDWR | C.O_TRUNC);
        if (fd < 0) return { result: fd };
        this.paths.add(a.path);
        let r = a.content === 'written' ? this.writeContent(p, fd, a.sizeBytes, a.writeChunkBytes) : p.ftruncate(fd, a.sizeBytes);
        if (r >= 0 && a.fsync) r = p.fsync(fd);
        const c = p.close(fd);
        return { result: r < 0 ? r : c };
      }
      case 'open': {
        const fd = p.open(step.args.path, flagsToNumber(step.args.flags));
        if (fd >= 0) {
          this.fds.set(step.args.fd, { processName: pn, fd, path: step.args.path });
          this.paths.add(step.args.path);
        }
        return { result: fd };
      }
      case 'close': {
        const r = p.close(this.fd(step, step.args.fd, pn));
        if (r >= 0) this.fds.delete(step.args.fd);
        return { result: r };
      }
      case 'read': {
        const fd = this.fd(step, step.args.fd, pn);
        return { result: this.transfer(step.args.lengthBytes, step.args.chunkBytes, (_o, len) => p.read(fd, len)) };
      }
      case 'pread': {
        const a = step.args;
        const fd = this.fd(step, a.fd, pn);
        return { result: this.transfer(a.lengthBytes, a.chunkBytes, (o, len) => p.pread(fd, len, a.offsetBytes + o)) };
      }
      case 'write': {
        const a = step.args;
        const fd = this.fd(step, a.fd, pn);
        return { result: this.transfer(a.lengthBytes, a.chunkBytes, (_o, len) => p.write(fd, len, a.byte ?? DEFAULT_WRITE_BYTE)) };
      }
      case 'pwrite': {
        const a = step.args;
        const fd = this.fd(step, a.fd, pn);
        return { result: this.transfer(a.lengthBytes, a.chunkBytes, (o, len) => p.pwrite(fd, len, a.offsetBytes + o, a.byte ?? DEFAULT_WRITE_BYTE)) };
      }
      case 'ftruncate':
        return { result: p.ftruncate(this.fd(step, step.args.fd, pn), step.args.sizeBytes) };
      case 'fallocate': {
        const a = step.args;
        return { result: p.fallocate(this.fd(step, a.fd, pn), flagsToNumber(a.mode), a.offsetBytes, a.lengthBytes) };
      }
      case 'fsync':
        return { result: p.fsync(this.fd(step, step.args.fd, pn)) };
      case 'fdatasync':
        return { result: p.fdatasync(this.fd(step, step.args.fd, pn)) };
      case 'unlink':
        return { result: p.unlink(step.args.path) };
      case 'stat': {
        const r = p.stat(step.args.path);
        return { result: typeof r === 'number' ? r : { ...r } };
      }
      case 'mmap': {
        const a = step.args;
        const fd = a.fd === undefined ? -1 : this.fd(step, a.fd, pn);
        const addr = p.mmap(a.addrBytes ?? 0, a.lengthBytes, flagsToNumber(a.prot), flagsToNumber(a.flags), fd, a.offsetBytes, a.map);
        if (addr >= 0) this.maps.set(a.map, { processName: pn, addr, lengthBytes: a.lengthBytes });
        return { result: addr };
      }
      case 'munmap': {
        const [addr, len] = this.range(step, step.args, pn);
        const r = p.munmap(addr, len);
        // A whole map unmapped leaves the reports (its address may be reused by a later map).
        const m = this.map(step, step.args.map, pn);
        if (r === 0 && addr <= m.addr && addr + len >= m.addr + m.lengthBytes) m.unmapped = true;
        return { result: r };
      }
      case 'mprotect': {
        const [addr, len] = this.range(step, step.args, pn);
        return { result: p.mprotect(addr, len, flagsToNumber(step.args.prot)) };
      }
      case 'madvise': {
        const [addr, len] = this.range(step, step.args, pn);
        return { result: p.madvise(addr, len, flagValue(step.args.advice)) };
      }
      case 'msync': {
        const [addr, len] = this.range(step, step.args, pn);
        return { result: p.msync(addr, len, flagsToNumber(step.args.flags)) };
      }
      case 'access':
        return this.access(step, p, pn);
      case 'load': {
        const m = this.map(step, step.args.map, pn);
        const addr = m.addr + step.args.offsetBytes;
        const r = p.load(addr);
        return r < 0 ? { result: r, signal: signalAt(r, addr, m) } : { result: r };
      }
      case 'store': {
        const m = this.map(step, step.args.map, pn);
        const addr = m.addr + step.args.offsetBytes;
        const r = p.store(addr, step.args.byte);
        return r < 0 ? { result: r, signal: signalAt(r, addr, m) } : { result: r };
      }
      case 'mkfs': {
        if (step.args.fs !== 'ext4') this.fail(step, `mkfs ${step.args.fs}: only ext4 can be made on a device`);
        return { result: this.machine.mkfs(step.args.device, 'ext4', step.args.placement) };
      }
      case 'mount': {
        const a = step.args;
        const fs = a.fs ?? (a.device === undefined ? undefined : this.machine.devices.get(a.device)?.fs ?? undefined);
        if (fs === undefined) this.fail(step, `device ${a.device ?? '(none)'} has no filesystem; run mkfs first or give fs`);
        return { result: this.machine.mount(a.target, fs, a.device, a.options) };
      }
      case 'dropCaches':
        // Only the page cache is modelled: value 2 (slab only) drops nothing.
        return { result: step.args.value === 2 ? 0 : this.machine.dropCaches() };
      case 'setKnob': {
        const a = step.args;
        if (a.name !== 'faultAroundBytes') this.fail(step, `knob "${a.name}" cannot be changed at run time (only faultAroundBytes)`);
        if (typeof a.value !== 'number') this.fail(step, `faultAroundBytes: expected a size, got ${JSON.stringify(a.value)}`);
        try {
          this.machine.setFaultAroundBytes(a.value);
        } catch {
          return { result: -EINVAL };
        }
        return { result: 0 };
      }
      case 'sleep':
        p.task.clockNs += step.args.durationNs;
        return { result: 0 };
      case 'report':
        this.report(step.args.name);
        return { result: 0 };
      case 'spawn': {
        // taskFor() created the thread named by the step (and refused an existing name).
        return { result: 0 };
      }
      case 'copy': {
        const a = step.args;
        if (!a.background) {
          const chunk = this.copier(p, a, false);
          while (chunk()) { /* copy to the end */ }
          return { result: 0 };
        }
        // Background work starts on its own thread (step.thread), at the same instant as the others.
        if (step.thread === undefined) this.fail(step, 'a background copy needs its own thread: give the step a thread name');
        const w = { task: p.task, step: this.copier(p, a, true), thread: step.thread, finite: false, done: false };
        // It starts now: at the main thread's time, not whenever its own task last ran.
        p.task.clockNs = Math.max(p.task.clockNs, this.process('main').task.clockNs);
        this.background.push(w);
        return { result: 0 };
      }
      case 'stop': {
        const t = step.args.thread;
        for (let i = this.background.length - 1; i >= 0; i--) if (t === undefined || this.background[i]!.thread === t) this.background.splice(i, 1);
        return { result: 0 };
      }
      case 'wait': {
        // Join: run everything until the thread's background accesses have ended; the joining
        // (main) thread resumes when the last of them did.
        const t = step.args.thread;
        const joined = this.background.filter((w) => w.finite && (t === undefined || w.thread === t));
        if (t !== undefined && joined.length === 0) this.fail(step, `thread "${t}" has no background access to wait for`);
        const pending = joined.filter((w) => !w.done);
        if (pending.length > 0) runConcurrently(this.machine.k, this.live(), pending, Math.max(this.s.machine.cpus, 1));
        const main = this.process('main');
        let signal: SignalRecord | undefined;
        for (const w of joined) {
          main.task.clockNs = Math.max(main.task.clockNs, w.task.clockNs);
          signal ??= w.signal;
          this.background.splice(this.background.indexOf(w), 1);
        }
        return signal ? { result: 0, signal } : { result: 0 };
      }
      case 'flush': {
        const m = this.map(step, step.args.map, pn);
        const addr = m.addr + step.args.offsetBytes;
        const r = p.flush(addr, step.args.lengthBytes, step.args.insn);
        return r < 0 ? { result: r, signal: signalAt(r, p.lastSignal?.addr ?? addr, m) } : { result: r };
      }
      case 'fence':
        return { result: p.fence(step.args.insn) };
      case 'umount':
        return this.fail(step, `${step.op} is not supported yet`);
    }
  }

  /** [address, length] of a map range step; the length defaults to the rest of the mapping. */
  private range(step: Step, a: { map: string; offsetBytes: number; lengthBytes: number | undefined }, pn: string): [number, number] {
    const m = this.map(step, a.map, pn);
    return [m.addr + a.offsetBytes, a.lengthBytes ?? Math.max(0, m.lengthBytes - a.offsetBytes)];
  }

  private access(step: Step & { op: 'access' }, p: Process, pn: string): { result: number; signal?: SignalRecord } {
    const a = step.args;
    const m = this.map(step, a.map, pn);
    const write = a.op === 'write';
    const value = a.byte ?? DEFAULT_STORE_BYTE;
    const descending = a.order === 'descending';
    const touch = (addr: number): number => (write ? p.store(addr, value) : p.load(addr));
    let n: number;
    let addrOf: (j: number) => number;
    if (a.span.kind === 'pages') {
      const pages = a.span.pages;
      n = pages.length;
      addrOf = (j) => m.addr + pages[descending ? pages.length - 1 - j : j]! * PAGE_BYTES;
    } else {
      const span = a.span;
      const lengthBytes = span.lengthBytes ?? Math.max(0, m.lengthBytes - span.offsetBytes);
      n = Math.ceil(lengthBytes / span.strideBytes);
      addrOf = (j) => m.addr + span.offsetBytes + (descending ? n - 1 - j : j) * span.strideBytes;
    }
    let j = 0;
    let out: { result: number; signal?: SignalRecord } = { result: n };
    if (a.background) {
      if (step.thread === undefined) this.fail(step, 'a background access needs its own thread: give the step a thread name');
      if (this.background.some((w) => w.thread === step.thread && !w.done)) this.fail(step, `thread "${step.thread}" is already running background work`);
      const w: Worker & { thread: string; finite: boolean; done: boolean; signal?: SignalRecord } = {
        task: p.task, thread: step.thread, finite: true, done: n === 0,
        step: () => {
          if (j >= n) { w.done = true; return false; }
          const addr = addrOf(j++);
          const r = touch(addr);
          if (r < 0) { w.signal = signalAt(r, addr, m); w.done = true; return false; }
          if (j >= n) w.done = true;
          return j < n;
        },
      };
      // It starts now: at the main thread's time, not whenever its own task last ran.
      p.task.clockNs = Math.max(p.task.clockNs, this.process('main').task.clockNs);
      this.background.push(w);
      return { result: 0 };
    }
    this.runWithBackground(p, () => {
      if (j >= n) return false;
      const addr = addrOf(j++);
      const r = touch(addr);
      if (r < 0) { out = { result: r, signal: signalAt(r, addr, m) }; return false; }
      return j < n;
    });
    return out;
  }

  // ---- Expectations ----

  check(step: Step, e: Expect, sr: StepResult, figures: Report): void {
    const failures = this.result.failures;
    const say = (field: string, expected: string | number, got: string | number): void => {
      failures.push(`${where(step)}: ${field} expected ${expected}, got ${got}`);
    };
    const num = typeof sr.result === 'number' ? sr.result : 0;
    if (e.errno !== undefined) {
      const got = sr.signal !== undefined ? sr.signal.signal : num >= 0 ? 'ok' : errnoName(-num);
      const want = e.errno === 'ENOTSUP' ? 'EOPNOTSUPP' : e.errno;
      if (got !== want) say('errno', e.errno, got === 'ok' ? `ok (result ${num})` : got);
    }
    if (e.signal !== undefined) {
      const got = sr.signal?.signal ?? 'none';
      if (got !== e.signal) say('signal', e.signal, got);
    }
    if (e.signalPage !== undefined) {
      const got = sr.signal?.page;
      if (got !== e.signalPage) say('signalPage', e.signalPage, got ?? 'none');
    }
    if (e.result !== undefined) {
      if (typeof sr.result !== 'number') say('result', e.result, JSON.stringify(sr.result));
      else if (sr.result !== e.result) say('result', e.result, sr.result);
    }
    const counters = (group: string, want: Record<string, number> | undefined, got: Record<string, number>): void => {
      if (want === undefined) return;
      for (const [k, v] of Object.entries(want)) {
        const g = got[k];
        if (g === undefined) failures.push(`${where(step)}: ${group}.${k} is not a ${group} counter (known: ${Object.keys(got).join(', ')})`);
        else if (g !== v) say(`${group}.${k}`, v, g);
      }
    };
    counters('vmstat', e.vmstat, figures.vmstat);
    counters('rusage', e.rusage as Record<string, number> | undefined, figures.rusage);
    counters('meminfo', e.meminfo, figures.meminfo);
    counters('events', e.events, figures.events);
    for (const [path, want] of Object.entries(e.files ?? {})) {
      const got = figures.files[path];
      const label = `files[${JSON.stringify(path)}]`;
      if (got === undefined) { failures.push(`${where(step)}: ${label} does not exist or was never created/opened`); continue; }
      if (want.sizeBytes !== undefined && want.sizeBytes !== got.sizeBytes) say(`${label}.sizeBytes`, want.sizeBytes, got.sizeBytes);
      if (want.blocks !== undefined && want.blocks !== got.blocks) say(`${label}.blocks`, want.blocks, got.blocks);
    }
    for (const [map, want] of Object.entries(e.smaps ?? {})) {
      const got = figures.smaps[map];
      if (got === undefined) { failures.push(`${where(step)}: smaps.${map}: the map is not mapped`); continue; }
      for (const [field, v] of Object.entries(want)) {
        const g = got[field];
        if (g === undefined) failures.push(`${where(step)}: smaps.${map}.${field} is not an smaps field (known: ${Object.keys(got).join(', ')})`);
        else if (g !== v) say(`smaps.${map}.${field}`, typeof v === 'string' ? JSON.stringify(v) : v, typeof g === 'string' ? JSON.stringify(g) : g);
      }
    }
  }
}

/** `steps[4] (report pass1)` or `steps[2] (mmap)`. */
function where(step: Step): string {
  return step.op === 'report' ? `steps[${step.index}] (report ${step.args.name})` : `steps[${step.index}] (${step.op})`;
}

function signalAt(r: number, addr: number, m: MapRecord): SignalRecord {
  return { signal: signalNameOf(-r), addr, page: Math.floor((addr - m.addr) / PAGE_BYTES) };
}

/**
 * Runs a validated scenario. Throws ScenarioError when the scenario uses something the model
 * cannot run (pmem devices, flush/fence/umount, unknown profile or knob, a name whose creating
 * step failed); every `expect` mismatch is a message in `failures` instead.
 */
export function runScenario(s: Scenario, opts: RunOptions = {}): RunResult {
  return new Runner(s, opts).run();
}
