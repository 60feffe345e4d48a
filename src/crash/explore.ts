/**
 * The crash explorer (issue 5): run a program on a DAX file once, stop it at every crash point
 * (each store to persistent memory, each flush and fence, each syscall and fault boundary, and the
 * program's end), and
 * at each one enumerate the media images a power failure could leave:
 * - everything flushed and fenced (and everything the kernel wrote non-temporally, and every
 *   journal commit) is there;
 * - each cache line not yet durable holds a program-order prefix of the failure-atomic units
 *   stored to it since it last was (the CPU may evict it at any moment); a unit is an aligned
 *   store of at most 8 bytes (src/hw/pmem.ts, src/crash/pm.ts), so wider stores tear at 8 bytes;
 * - metadata is that of the last committed transaction (recovery replays committed ones only).
 * Each image is checked through a CrashView (no remount; the image overlays the durable view
 * copy-on-write) against the built-in invariants (the MAP_SYNC guarantee; data covered by a
 * completed fsync/msync survives) and the program's own (expectDurable, check). With ADR the CPU
 * caches are lost at a power failure; with eADR (persistence: 'eadr') they are saved, so every
 * store is durable at once and each crash point has one image.
 *
 * Verdicts (issue 15): 'pass' only when every crash point was explored exhaustively and the run
 * was not cut short; 'partial' when some point was sampled or maxStates stopped the run; 'empty'
 * when no crash state was checked at all; 'fail' when an invariant broke.
 */
import { mulberry32 } from '../lib/prng.ts';
import { Machine } from '../api/machine.ts';
import { runScenario } from '../scenario/run.ts';
import type { Scenario } from '../scenario/types.ts';
import { CrashView } from './view.ts';
import type { Ext4 } from '../fs/ext4/ext4.ts';
import { STORE_CONT, type PmemDevice } from '../hw/pmem.ts';
import type { Inode } from '../fs/fs.ts';
import type { PendingLine } from '../hw/pmem.ts';
import { VM_SHARED, VM_SYNC, _PAGE_RW } from '../mm/constants.ts';
import { pteTableOf, pteIndex, pmdTableOf, pmdIndex } from '../mm/pgtable.ts';
import { PmOps, PmProgramError, type PmHooks, type PmOp } from './pm.ts';
import type { Process } from '../api/machine.ts';
import { IncrementalExpectations, type Expectation } from './incremental.ts';
import { recoverAndCheck, type Violation, type RecoveryOptions } from './recovery.ts';
import { assert } from '../lib/assert.ts';
import type { ExtentLookup } from '../fs/ext4/extents.ts';
import type { ProgressLine } from '../lib/progress.ts';

export interface CrashContext {
  readonly machine: Machine;
  /** The DAX filesystem's mount point ("/mnt"). */
  readonly dir: string;
  /**
   * From now on, every crash state must show `bytes` (or `lengthBytes` copies of one byte) at
   * `offsetBytes` of `path`.
   */
  expectDurable(path: string, offsetBytes: number, bytes: Uint8Array | number, lengthBytes?: number): void;
  /** The PM instructions and libpmem calls (src/crash/pm.ts) on `p`'s mappings (default: a new process). */
  pm(p?: Process): PmOps;
}

export interface CrashProgram {
  readonly name: string;
  readonly description: string;
  /** Kernel profile (default linux-6.1). */
  readonly profile?: string;
  /** ADR (default): CPU caches are lost at a power failure; eADR: they are saved. */
  readonly persistence?: 'adr' | 'eadr';
  /** The program, on a machine with ext4 -o dax on pmem0 mounted at ctx.dir. */
  run(ctx: CrashContext): void;
  /** A user invariant on the recovered state: null when it holds, else what broke. */
  check?(view: CrashView): string | null;
  /**
   * The program's recovery code, run on a writable copy of each crash image before `check` (its
   * writes change that state's image only). An exception it throws is a failure ('recover').
   */
  recover?(view: CrashView): void;
  /** Instead of `run`: a parsed scenario, run step by step (built-in invariants only). */
  readonly scenario?: Scenario;
}

export interface ExploreOptions {
  /** Stop after this many crash states (default 1,000,000). */
  maxStates?: number;
  /** A crash point with at most this many images is explored exhaustively (default 4096). */
  exhaustiveLimit?: number;
  /** Images sampled at a crash point with more: the two extremes plus seeded random prefixes (default 32). */
  samplesPerPoint?: number;
  seed?: number;
  /** Stop at the first failing state (default true); false: every distinct failure (one per point and invariant). */
  stopAtFirstFailure?: boolean;
  /** Check every state by the full path too and assert both agree (tests of the incremental check). */
  crossCheck?: boolean;
  /** Explore only the crash points p with p % count === index (src/crash/shard.ts merges the parts). */
  shard?: { index: number; count: number };
  /**
   * Also check every image a power failure during the program's recovery code leaves, recovery
   * then running again (src/crash/recovery.ts; default true).
   */
  recoveryCrashes?: boolean;
  /** When given, one entry per explored crash point is pushed here (the browser view's list). */
  pointLog?: CrashPointInfo[];
  /** A progress line of the states explored (this thread only: not passed to workers). */
  progress?: ProgressLine | null;
}

/** An explored crash point: its index, what it was, and the states checked there. */
export interface CrashPointInfo { point: number; where: string; op: string; states: number; sampled: boolean }

/** A non-durable line of a crash state: `units` failure-atomic stores were made to it, `kept` reached the media. */
export interface LineChoice {
  block: number; line: number; stores: number; kept: number;
  /** Where the line is in a file (live mapping at the crash point), when it is file data. */
  path?: string; offset?: number;
}

/** Bytes of a file read in a crash state. */
export interface ReadRange { path: string; offset: number; bytes: number[] }

export interface CrashFailure {
  /** Index of the crash point (0-based, in program order) and what it was. */
  point: number;
  where: string;
  /** The prefix kept of each non-durable line, in pendingLineStores order: the replay key. */
  choice: number[];
  lines: LineChoice[];
  committedTid: number;
  invariant: string;
  message: string;
  replay: string;
  /** The operation at the crash point (store64, clwb, memcpy, sfence, fault, syscall, ...). */
  op: string;
  /** The program's source location of that operation (file:line), when it could be found. */
  source: string | null;
  /** The operation's address and, when it is a mapped file, the file and offset. */
  addr: number;
  file: { path: string; offset: number } | null;
  /** What the check read (check/recover), or the range an expectDurable covered, in this state. */
  read: ReadRange[];
  expected: ReadRange | null;
  /** Failing states at this crash point with this invariant (only the first is kept). */
  count: number;
  /** The failing state's index among the states of its crash point (shard merges). */
  stateInPoint: number;
}

export type Verdict = 'pass' | 'fail' | 'partial' | 'empty';

export interface ExploreResult {
  program: string;
  profile: string;
  crashPoints: number;
  states: number;
  exhaustivePoints: number;
  sampledPoints: number;
  hostMs: number;
  statesPerSecond: number;
  failures: CrashFailure[];
  /** True when maxStates stopped the run before the program ended. */
  truncated: boolean;
  /** Failing states in all (failures holds one per crash point and invariant). */
  failingStates: number;
  /** The crash points explored by sampling (the first 100), not exhaustively. */
  sampledPointList: number[];
  verdict: Verdict;
  /**
   * Images checked after a power failure during recovery (besides `states`): each state's first
   * k of W recovery writes, recovery run again (src/crash/recovery.ts).
   */
  recoveryStates: number;
  /**
   * A shard's part (explore with `shard`): which one, and per explored point [point, states,
   * sampled 0/1, recovery-crash states].
   */
  shard?: { index: number; count: number; points: number[] };
}

class Stop extends Error {}

/** A replay request that does not fit the program (wrong point or choice). */
export class CrashInputError extends Error {}

/** mulberry32 (src/lib/prng.ts): the same seed, the same choices. */
const prng = mulberry32;

interface Session extends PmHooks {
  m: Machine;
  fs: Ext4;
  pmem: PmemDevice;
  dir: string;
  names?: Map<string, Inode>;
  expectations: Expectation[];
  /**
   * fsync/msync durability: pblk -> the page's content version when the sync completed, and
   * whether the sync left it durable. While the version is unchanged the page is owed: the
   * recovered file must map it there, and its media content can only have become more like the
   * CPU's (lines persist CPU content), so the check is per crash point, not per image.
   */
  synced: Map<number, { path: string; index: number; version: number; durableAtSync: boolean }>;
  /** The incremental expectDurable check (src/crash/incremental.ts), made when the DAX mount is found. */
  inc: IncrementalExpectations | null;
  /** The MAP_SYNC result of the last point that recomputed it, and what it depended on. */
  mapSync: string | null;
  mapSyncTid: number;
  mapSyncKernelWork: boolean;
  /** The extent lookup mapSyncVma reuses. */
  mapSyncLook: ExtentLookup;
  /** The crash point being explored and its choice buffer, reused (explorePoint). */
  point?: PointCtx;
  choice: number[];
  /** How recovery code is run (src/crash/recovery.ts); made at the first use when explore did not set it. */
  recovery?: RecoveryOptions;
}

const DIR = '/mnt';

function setup(prog: CrashProgram): Session {
  const m = new Machine({ profile: prog.profile ?? 'linux-6.1', memoryBytes: 2 ** 30,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 256 * 2 ** 20, writeCache: prog.persistence !== 'eadr' }] });
  m.mkfs('pmem0', 'ext4');
  if (m.mount(DIR, 'ext4', 'pmem0', ['dax']) !== 0) throw new Error('crash explorer: cannot mount ext4 -o dax');
  const s = attach(m);
  bind(s);
  return s;
}

/** Start recording on a machine whose DAX filesystem may not be mounted yet (scenarios mount it in a step). */
function attach(m: Machine): Session {
  for (const d of m.k.pmems) d.recordLineStores = true;
  const s = { m, fs: null, pmem: null, dir: '', expectations: [], synced: new Map(), quiet: false, op: null,
    inc: null, mapSync: null, mapSyncTid: -1, mapSyncKernelWork: true,
    mapSyncLook: { kind: 'hole', lblk: 0, pblk: -1, lenBlocks: 0 }, choice: [] } as unknown as Session;
  m.k.syncHook = (inode: Inode, first: number, last: number) => {
    if (bind(s)) recordSync(s, inode, s.names!, first, last);
  };
  return s;
}

/** Find the DAX ext4 mount once it exists; false while there is none. */
function bind(s: Session): boolean {
  if (s.fs) return true;
  const sb = s.m.k.vfs.mounts.find((x) => x.fs.daxMount);
  if (!sb) return false;
  const fs = sb.fs as Ext4;
  s.fs = fs;
  s.pmem = fs.pmem!;
  s.dir = sb.mountPoint.replace(/\/$/, '');
  s.names = sb.inodes;
  s.inc = new IncrementalExpectations(fs, s.pmem, s.dir);
  for (const e of s.expectations) s.inc.add(e);
  return true;
}

/** After fsync/msync of a DAX file: its written pages in file pages first..last must survive as they are now. */
function recordSync(s: Session, inode: Inode, names: Map<string, Inode>, first: number, last: number): void {
  let path = '';
  for (const [n, i] of names) if (i === inode) path = `${s.dir}/${n}`;
  if (!path) return;
  for (const e of s.fs.extentsOf(inode)) {
    if (e.kind !== 'written') continue;
    for (let j = 0; j < e.lenBlocks; j++) {
      if (e.lblk + j < first || e.lblk + j > last) continue;
      const b = e.pblk + j;
      const version = s.pmem.blockVersion(b);
      s.synced.set(b, { path, index: e.lblk + j, version, durableAtSync: s.pmem.blockDurable(b) });
    }
  }
}

/**
 * The MAP_SYNC guarantee at this instant: every writably mapped block of a MAP_SYNC VMA is committed
 * there (dax_iomap_pte_fault with IOMAP_F_DIRTY commits before the PTE is made writable, fs/dax.c
 * v6.1). Walks each VMA (of process `pid` and the range [from, to) only, when given) one PTE table
 * at a time and resolves pages with one reused lookup.
 */
function mapSyncViolation(s: Session, pid = -1, from = 0, to = Number.MAX_SAFE_INTEGER): string | null {
  for (const p of s.m.k.processes) {
    if (pid >= 0 && p.pid !== pid) continue;
    for (const v of p.mm.vmas) {
      if ((v.flags & (VM_SYNC | VM_SHARED)) !== (VM_SYNC | VM_SHARED) || !v.file || !v.file.inode.dax) continue;
      if (v.end <= from || v.start >= to) continue;
      const r = mapSyncVma(s, p.mm.pgd, v, Math.max(v.start, from), Math.min(v.end, to));
      if (r !== null) return r;
    }
  }
  return null;
}

/** mapSyncViolation for the part [from, to) of one VMA. */
function mapSyncVma(s: Session, pgd: Process['kp']['mm']['pgd'], v: Process['kp']['mm']['vmas'][number],
  from: number, to: number): string | null {
  const base = s.pmem.pfnBase;
  const look = s.mapSyncLook;
  const committed = s.fs.committed.get(v.file!.inode.ino);
  let lo = -1, hi = -1, pblk = -1, kind = 'hole';
  for (let va = from; va < to;) {
    const stepEnd = Math.min(to, va - (va % 0x200000) + 0x200000);
    const pmd = pmdTableOf(pgd, va);
    const t = pmd && (pmd.leafFlags[pmdIndex(va)]! & _PAGE_RW) ? null : pteTableOf(pgd, va);
    if (!t && !(pmd && (pmd.leafFlags[pmdIndex(va)]! & _PAGE_RW))) { va = stepEnd; continue; }
    for (; va < stepEnd; va += 4096) {
      let pfn = -1;
      if (!t) pfn = pmd!.leafPfn[pmdIndex(va)]! + pteIndex(va);
      else if (t.flags[pteIndex(va)]! & _PAGE_RW) pfn = t.pfn[pteIndex(va)]!;
      if (pfn < base) continue;
      const index = v.pgoff + (va - v.start) / 4096;
      if (committed && (index < lo || index >= hi)) {
        const m = committed.extents.lookupInto(index, look);
        lo = index; hi = index + m.lenBlocks; pblk = m.pblk - index; kind = m.kind;
      }
      if (!committed || kind !== 'written' || pblk + index !== pfn - base) {
        const found = committed ? `${kind} block ${kind === 'hole' ? -1 : pblk + index}` : 'no such file';
        const page = `page ${index} of ${v.file!.path}`;
        return `${page} is writably mapped (block ${pfn - base}) but recovery would find ${found} there`;
      }
    }
  }
  return null;
}

/** Crash points after which page tables and committed metadata are as at the point before (a PM instruction). */
const INSTRUCTION_POINTS = new Set(['store', 'clwb', 'clflushopt', 'clflush', 'sfence', 'mfence', 'lfence',
  'memcpy', 'memset', 'pmem_flush', 'pmem_memcpy', 'store8', 'store16', 'store32', 'store64']);

/**
 * The MAP_SYNC result, recomputed only when it can have changed: after a fault, a syscall, a
 * journal commit or deferred kernel work (a pending completion may run at the next entry). A
 * fault when the last result held and nothing else ran since is checked around its address only
 * (the 2 MiB a PTE or PMD fault can install entries in; a commit only adds committed blocks, and
 * whatever removes a mapping, truncate or hole punch, is a syscall and gets the full walk).
 */
function mapSyncCached(s: Session, where: string, crossCheck: boolean): string | null {
  const tid = s.fs.journal.committedTid;
  const k = s.m.k;
  const instruction = INSTRUCTION_POINTS.has(where) || where.startsWith('store') || where.startsWith('ntstore');
  const fresh = s.mapSyncTid >= 0 && !s.mapSyncKernelWork;
  if (instruction && tid === s.mapSyncTid && fresh) {
    // unchanged: an instruction changes no page table and commits nothing
  } else if (where === 'fault' && fresh && s.mapSync === null && k.crashFaultAddr >= 0) {
    const lo = k.crashFaultAddr - (k.crashFaultAddr % 0x200000);
    s.mapSync = mapSyncViolation(s, k.crashFaultPid, lo, lo + 0x200000);
    if (crossCheck) {
      const full = mapSyncViolation(s);
      assert(full === s.mapSync, `crash explorer: MAP_SYNC around the fault says ${s.mapSync}, the walk ${full}`);
    }
  } else s.mapSync = mapSyncViolation(s);
  s.mapSyncTid = tid;
  s.mapSyncKernelWork = k.hasPending;
  return s.mapSync;
}

/** fsync/msync durability at this crash point (independent of the line prefixes, see Session.synced). */
function syncViolation(s: Session): string | null {
  if (s.synced.size === 0) return null;
  const view = new CrashView(s.fs, s.pmem, s.dir, new Map());
  for (const [pblk, x] of s.synced) {
    if (s.pmem.blockVersion(pblk) !== x.version) continue; // written since the sync: not owed any more
    const page = `${x.path} page ${x.index}`;
    if (!x.durableAtSync) return `${page} was synced but its data was still in the CPU cache (no write-back)`;
    const recovered = view.blockOf(x.path, x.index);
    if (recovered !== pblk) return `${page} was synced but recovery maps it to ${recovered}, not block ${pblk}`;
  }
  return null;
}


/** Invariants that depend on the media image; `detail` records the bytes read (failure reports only). */
function imageViolation(s: Session, view: CrashView, prog: CrashProgram, detail = false): Violation | null {
  return expectViolation(s, view) ?? userViolation(s, view, prog, detail);
}

/**
 * The program's recovery and check (src/crash/recovery.ts), with power failures during recovery
 * unless turned off; a failure report's re-run (detail) does not count its states again.
 */
function userViolation(s: Session, view: CrashView, prog: CrashProgram, detail: boolean): Violation | null {
  if (!prog.check && !prog.recover) return null;
  if (!s.recovery) s.recovery = { crashes: true, detail: false, site: callSite, counter: { recoveryStates: 0 } };
  const o = detail ? { ...s.recovery, detail: true, counter: { recoveryStates: 0 } } : s.recovery;
  return recoverAndCheck(view, prog, o);
}

/** The first expectDurable the image breaks, in registration order. */
function expectViolation(s: Session, view: CrashView): Violation | null {
  for (const e of s.expectations) {
    const got = view.read(e.path, e.offsetBytes, e.bytes.length);
    if (!got || got.length < e.bytes.length || got.some((b, i) => b !== e.bytes[i])) {
      const held = got ? summary(got) : 'nothing (no such file)';
      return { invariant: 'expectDurable',
        message: `expectDurable #${e.index}: ${e.path} at ${e.offsetBytes} holds ${held}, expected ${summary(e.bytes)}`,
        read: got ? [{ path: e.path, offset: e.offsetBytes, bytes: [...got] }] : [],
        expected: { path: e.path, offset: e.offsetBytes, bytes: [...e.bytes] } };
    }
  }
  return null;
}

function summary(b: Uint8Array): string {
  const head = [...b.subarray(0, 8)].join(',');
  return b.length > 8 ? `[${head},... ${b.length} bytes]` : `[${head}]`;
}

/** Build the overlay for one choice of prefixes. */
type PendingLines = readonly PendingLine[];

/** The invariants that do not depend on the media image: the MAP_SYNC guarantee, then fsync/msync durability. */
function metaViolation(s: Session, where: string | null, crossCheck = false): Violation | null {
  const ms = where === null ? mapSyncViolation(s) : mapSyncCached(s, where, crossCheck);
  if (ms) return { invariant: 'MAP_SYNC guarantee', message: ms, read: [], expected: null };
  const sv = syncViolation(s);
  return sv ? { invariant: 'fsync/msync durability', message: sv, read: [], expected: null } : null;
}

/** The file and offset holding device block `block` in the live extents, or null. */
export function fileOfBlock(s: { fs: Ext4; dir: string; names?: Map<string, Inode> }, block: number):
  { path: string; offset: number } | null {
  for (const [name, inode] of s.names ?? []) {
    for (const e of s.fs.extentsOf(inode)) {
      if (e.kind === 'written' && block >= e.pblk && block < e.pblk + e.lenBlocks) {
        return { path: `${s.dir}/${name}`, offset: (e.lblk + block - e.pblk) * 4096 };
      }
    }
  }
  return null;
}

/** What a choice keeps of each pending line, with the file range each line holds. */
function lineChoices(s: Session, lines: PendingLines, choice: readonly number[]): LineChoice[] {
  return lines.map((l, i) => {
    const f = fileOfBlock(s, l.block);
    const c: LineChoice = { block: l.block, line: l.line, stores: l.units, kept: choice[i]! };
    if (f) { c.path = f.path; c.offset = f.offset + l.line * 64; }
    return c;
  });
}

/** Bytes of the first `units` failure-atomic units of each line (STORE_CONT continues a unit). */
export function overlayFor(lines: PendingLines, choice: readonly number[]): Map<number, number> {
  const o = new Map<number, number>();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const keep = choice[i]!;
    let units = 0;
    for (let j = 0; j < l.stores.length; j++) {
      let st = l.stores[j]!;
      if (st >= STORE_CONT) st -= STORE_CONT;
      else if (++units > keep) break;
      o.set(l.block * 4096 + Math.floor(st / 256), st % 256);
    }
  }
  return o;
}

/** Crash points inside one PM instruction (its byte stores and line flushes) are hidden; faults are not. */
const QUIET_POINTS = new Set(['store', 'clwb', 'clflushopt', 'clflush']);

/** An exception from the program's own code (not the model's): reported to the user, exit 2. */
export class CrashProgramError extends Error {}

/**
 * Runs `prog` (its `run`, or its scenario step by step) with `hook` called at every crash point
 * with the session; a Stop thrown by the hook ends the run early.
 */
function runToCrashPoints(
  prog: CrashProgram, initial: Session | null, hook: (s: Session, where: string) => void,
): void {
  let sess = initial;
  const crashHook = (where: string): void => {
    if (sess!.quiet && QUIET_POINTS.has(where)) return;
    hook(sess!, where);
  };
  try {
    if (prog.scenario) {
      const onMachine = (m: Machine): void => { sess = attach(m); m.k.crashHook = crashHook; };
      runScenario(prog.scenario, { collectHostTime: false, onMachine });
    } else {
      sess!.m.k.crashHook = crashHook;
      prog.run(context(sess!));
    }
    // A power failure after the program's last operation is a crash state too (with every
    // expectation it registered last).
    if (sess) hook(sess, 'end');
  } catch (e) {
    if (e instanceof Stop) return;
    if (e instanceof PmProgramError || e instanceof RangeError) {
      const at = sourceOf(e.stack);
      throw new CrashProgramError(`program ${prog.name}: ${e.message}${at ? ` at ${at}` : ''}`);
    }
    throw e;
  } finally {
    if (sess) sess.m.k.crashHook = null;
  }
}

/** A file: URL's path (no node:url: the explorer also runs in the browser view, where this is an http URL). */
function urlPath(u: string): string {
  return decodeURIComponent(new URL(u).pathname);
}
const SRC_DIR = urlPath(new URL('../', import.meta.url).href);
/** The working directory, where there is one (Node), for shorter source paths. */
const CWD = typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() + '/' : '/';

/** The first stack frame outside daxsim's src/ (the program's call site), as path:line, or null. */
export function sourceOf(stack: string | undefined): string | null {
  if (!stack) return null;
  for (const line of stack.split('\n').slice(1)) {
    if (/[( ]node:/.test(line)) continue; // Node's own frames (a worker's module loader)
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?\s*$/.exec(line);
    if (!m) continue;
    const file = m[1]!.startsWith('file://') ? urlPath(m[1]!) : m[1]!;
    if (file.startsWith(SRC_DIR) || file.includes('/node_modules/')) continue;
    const cwd = CWD;
    return `${file.startsWith(cwd) ? file.slice(cwd.length) : file}:${m[2]}`;
  }
  return null;
}

/** The program's call site now (only called when a failure is recorded: stacks are not cheap). */
function callSite(): string | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack;
  Error.stackTraceLimit = limit;
  return sourceOf(stack);
}

interface ExploreLimits {
  maxStates: number;
  exhaustiveLimit: number;
  samples: number;
  seed: number;
  stopFirst: boolean;
  crossCheck: boolean;
  recoveryCrashes: boolean;
}

/** The operation at a crash point: the PM op in progress, else the raw one (its last store's file offset). */
function opAt(s: Session, where: string): { op: string; addr: number; file: { path: string; offset: number } | null } {
  const op = s.op;
  if (op !== null) return { op: op.name, addr: op.addr, file: op.addr >= 0 ? fileOfAddr(op, op.addr) : null };
  if (where === 'store' && s.pmem.lastStorePhys >= 0) {
    const phys = s.pmem.lastStorePhys;
    const f = fileOfBlock(s, Math.floor(phys / 4096) - s.pmem.pfnBase);
    return { op: where, addr: -1, file: f ? { path: f.path, offset: f.offset + (phys % 4096) } : null };
  }
  return { op: where, addr: -1, file: null };
}

/** The file and offset a process maps at `addr`, or null. */
function fileOfAddr(op: PmOp, addr: number): { path: string; offset: number } | null {
  for (const v of op.p.kp.mm.vmas) {
    if (addr >= v.start && addr < v.end && v.file) {
      return { path: v.file.path, offset: v.pgoff * 4096 + addr - v.start };
    }
  }
  return null;
}

/** Record a failing state: the first per (point, invariant) is kept with its details, the others counted. */
function recordFailure(
  s: Session, prog: CrashProgram, res: ExploreResult, here: number, where: string, lines: PendingLines,
  choice: readonly number[], bad: Violation, stateInPoint: number,
): void {
  res.failingStates++;
  choice = choice.slice(0, lines.length); // the explorer's buffer may be longer than this point's lines
  const prev = res.failures[res.failures.length - 1];
  if (prev && prev.point === here && prev.invariant === bad.invariant) { prev.count++; return; }
  let v = bad;
  if (bad.invariant === 'check' || bad.invariant === 'recover' || bad.invariant === 'recovery crash') {
    // Re-run the check on the same state with its reads recorded.
    v = imageViolation(s, new CrashView(s.fs, s.pmem, s.dir, overlayFor(lines, choice)), prog, true) ?? bad;
  }
  const at = opAt(s, where);
  res.failures.push({ point: here, where, choice: [...choice], lines: lineChoices(s, lines, choice),
    committedTid: s.fs.journal.committedTid, invariant: v.invariant, message: v.message,
    replay: `daxsim crash FILE --program ${JSON.stringify(prog.name)} --replay ${here}:${choice.join(',')}`,
    op: at.op, addr: at.addr, file: at.file, source: where === 'end' ? null : callSite(), read: v.read,
    expected: v.expected, count: 1,
    stateInPoint });
}

/**
 * The image invariants of one state: the incremental expectDurable check, and the full one only
 * when it fails (for the report) or when the program has its own check or recovery code.
 */
function stateViolation(s: Session, prog: CrashProgram, inc: IncrementalExpectations, lines: PendingLines,
  choice: readonly number[], user: boolean, crossCheck: boolean): Violation | null {
  const holds = inc.holds(choice);
  if (holds && !user && !crossCheck) return null;
  const view = new CrashView(s.fs, s.pmem, s.dir, overlayFor(lines, choice));
  const full = expectViolation(s, view);
  assert((full === null) === holds, `crash explorer: incremental check says ${holds ? 'holds' : 'fails'} but ` +
    `the full check ${full ? `finds ${full.message}` : 'finds nothing'} (choice ${choice.slice(0, lines.length)})`);
  return full ?? (user ? userViolation(s, view, prog, false) : null);
}

/** One crash point being explored (reused from point to point: exploring an image allocates nothing). */
interface PointCtx {
  s: Session; prog: CrashProgram; res: ExploreResult; lim: ExploreLimits; here: number; where: string;
  lines: PendingLines; meta: Violation | null; user: boolean; first: number;
}

/** Check the image keeping choice[i] units of line i; a Stop ends the run (limit, first failure). */
function tryChoice(c: PointCtx, choice: readonly number[]): void {
  const res = c.res;
  if (res.states >= c.lim.maxStates) { res.truncated = true; throw new Stop(); }
  res.states++;
  const bad = c.meta ?? stateViolation(c.s, c.prog, c.s.inc!, c.lines, choice, c.user, c.lim.crossCheck);
  if (!bad) return;
  recordFailure(c.s, c.prog, res, c.here, c.where, c.lines, choice, bad, res.states - c.first - 1);
  if (c.lim.stopFirst) throw new Stop();
}

/** Checks the images of one crash point: all of them when few enough, else seeded samples. */
function explorePoint(
  s: Session, prog: CrashProgram, res: ExploreResult, lim: ExploreLimits, here: number, where: string,
): void {
  const lines = s.pmem.pendingLineStores();
  const c = s.point ??= { s, prog, res, lim, here, where, lines, meta: null, user: false, first: 0 };
  c.prog = prog; c.res = res; c.lim = lim; c.here = here; c.where = where; c.lines = lines;
  c.meta = metaViolation(s, where, lim.crossCheck);
  s.inc!.prepare(lines);
  c.user = prog.check !== undefined || prog.recover !== undefined;
  let total = 1;
  for (let i = 0; i < lines.length; i++) { total *= lines[i]!.units + 1; if (total > lim.exhaustiveLimit) break; }
  c.first = res.states;
  if (total <= lim.exhaustiveLimit) {
    res.exhaustivePoints++;
    // A buffer that only grows (its first lines.length entries are the choice): no allocation per point.
    const choice = s.choice, n = lines.length;
    while (choice.length < n) choice.push(0);
    for (let i = 0; i < n; i++) choice[i] = 0;
    for (;;) {
      tryChoice(c, choice);
      let i = 0;
      while (i < n && ++choice[i]! > lines[i]!.units) choice[i++] = 0;
      if (i === n) break;
    }
  } else {
    res.sampledPoints++;
    if (res.sampledPointList.length < 100) res.sampledPointList.push(here);
    const rnd = prng((lim.seed * 1000003) ^ here);
    tryChoice(c, lines.map(() => 0));
    tryChoice(c, lines.map((l) => l.units));
    for (let n = 2; n < lim.samples; n++) tryChoice(c, lines.map((l) => Math.floor(rnd() * (l.units + 1))));
  }
}

/** The verdict of a finished exploration (see the module comment). */
function verdictOf(r: ExploreResult): Verdict {
  if (r.failures.length > 0) return 'fail';
  if (r.states === 0) return 'empty';
  return r.truncated || r.sampledPoints > 0 ? 'partial' : 'pass';
}

/** Explore every crash point of `prog`. */
export function explore(prog: CrashProgram, opts: ExploreOptions = {}): ExploreResult {
  const lim: ExploreLimits = {
    maxStates: opts.maxStates ?? 1_000_000,
    exhaustiveLimit: opts.exhaustiveLimit ?? 4096,
    samples: opts.samplesPerPoint ?? 32,
    seed: opts.seed ?? 1,
    stopFirst: opts.stopAtFirstFailure ?? true,
    crossCheck: opts.crossCheck ?? false,
    recoveryCrashes: opts.recoveryCrashes ?? true,
  };
  const s = prog.scenario ? null : setup(prog);
  const res: ExploreResult = {
    program: prog.name, profile: prog.profile ?? prog.scenario?.kernel.profile ?? 'linux-6.1', crashPoints: 0,
    states: 0, exhaustivePoints: 0, sampledPoints: 0, hostMs: 0, statesPerSecond: 0, failures: [], truncated: false,
    failingStates: 0, sampledPointList: [], verdict: 'empty', recoveryStates: 0,
  };
  const t0 = performance.now();
  let point = 0;
  const shard = opts.shard;
  if (shard) res.shard = { index: shard.index, count: shard.count, points: [] };
  const prog1 = opts.progress ?? null;
  prog1?.begin(`crash: ${prog.name}`, 0, 'states');
  runToCrashPoints(prog, s, (sess, where) => {
    if (!bind(sess)) return; // no DAX filesystem yet: nothing can be lost
    const here = point++;
    res.crashPoints++;
    if (shard && here % shard.count !== shard.index) {
      sess.mapSyncKernelWork = true; // this point's changes are not seen: recompute at the next explored one
      return;
    }
    const before = res.states, sampled = res.sampledPoints, rec = res.recoveryStates;
    if (!sess.recovery) sess.recovery = { crashes: lim.recoveryCrashes, detail: false, site: callSite, counter: res };
    try {
      explorePoint(sess, prog, res, lim, here, where);
    } finally {
      res.shard?.points.push(here, res.states - before, res.sampledPoints - sampled, res.recoveryStates - rec);
      opts.pointLog?.push({ point: here, where, op: opAt(sess, where).op, states: res.states - before,
        sampled: res.sampledPoints > sampled });
    }
    prog1?.tick(res.states);
  });
  prog1?.end();
  res.hostMs = performance.now() - t0;
  res.statesPerSecond = res.states / Math.max(res.hostMs / 1000, 1e-9);
  res.verdict = verdictOf(res);
  return res;
}

function context(s: Session): CrashContext {
  const ops = new Map<Process, PmOps>();
  return {
    machine: s.m,
    dir: s.dir,
    expectDurable(path: string, offsetBytes: number, bytes: Uint8Array | number, lengthBytes = 1): void {
      const b = typeof bytes === 'number' ? new Uint8Array(lengthBytes).fill(bytes) : bytes.slice();
      const e = { path, offsetBytes, bytes: b, index: s.expectations.length + 1 };
      s.expectations.push(e);
      s.inc?.add(e);
    },
    pm(p?: Process): PmOps {
      const proc = p ?? s.m.process();
      let o = ops.get(proc);
      if (!o) { o = new PmOps(proc, s); ops.set(proc, o); }
      return o;
    },
  };
}

/** A media range that matters in a replayed state: a non-durable line, with its bytes on the media and in the CPU. */
export interface ReplayLine extends LineChoice { media: number[]; cpu: number[] }

export interface ReplayResult {
  where: string;
  op: string;
  file: { path: string; offset: number } | null;
  lines: ReplayLine[];
  committedTid: number;
  violation: [string, string] | null;
  /** What the check read in this state (or the expectation's range). */
  read: ReadRange[];
  expected: ReadRange | null;
  files: Record<string, { sizeBytes: number; head: number[] }>;
}

/** The state `choice` at the current crash point of `s`: its lines, files and the first invariant it breaks. */
function describeState(s: Session, prog: CrashProgram, point: number, where: string, given: number[] | null):
  ReplayResult {
  const lines = s.pmem.pendingLineStores();
  const choice = given ?? lines.map(() => 0);
  if (choice.length !== lines.length) {
    const has = `${lines.length} non-durable lines`;
    throw new CrashInputError(`replay: crash point ${point} has ${has}, the choice gives ${choice.length}`);
  }
  choice.forEach((c, i) => {
    const units = lines[i]!.units;
    if (c < 0 || c > units) throw new CrashInputError(`replay: line ${i} has ${units} stores, cannot keep ${c}`);
  });
  const overlay = overlayFor(lines, choice);
  const view = new CrashView(s.fs, s.pmem, s.dir, overlay);
  const rl: ReplayLine[] = lineChoices(s, lines, choice).map((l) => {
    const media: number[] = [], cpu: number[] = [];
    for (let o = l.line * 64; o < l.line * 64 + 64; o++) {
      media.push(view.mediaByte(l.block, o));
      cpu.push(s.pmem.readByte(s.pmem.pfnBase + l.block, o));
    }
    return { ...l, media, cpu };
  });
  const fresh = new CrashView(s.fs, s.pmem, s.dir, new Map(overlay));
  const v = metaViolation(s, null) ?? imageViolation(s, fresh, prog, true);
  const files: Record<string, { sizeBytes: number; head: number[] }> = {};
  for (const name of s.fs.committedNames.keys()) {
    const path = `${s.dir}/${name}`;
    files[path] = { sizeBytes: view.sizeBytes(path), head: [...(view.read(path, 0, 16) ?? [])] };
  }
  const at = opAt(s, where);
  return { where, op: at.op, file: at.file, lines: rl, committedTid: s.fs.journal.committedTid,
    violation: v ? [v.invariant, v.message] : null, read: v?.read ?? [], expected: v?.expected ?? null, files };
}

/**
 * Re-run `prog` to crash point `point` and rebuild the state `choice` (null: every non-durable line
 * lost, the state that keeps least), describing it.
 */
export function replay(prog: CrashProgram, point: number, choice: number[] | null,
  opts: Pick<ExploreOptions, 'recoveryCrashes'> = {}): ReplayResult {
  let n = 0;
  let out: ReplayResult | null = null;
  runToCrashPoints(prog, prog.scenario ? null : setup(prog), (s, where) => {
    if (!bind(s)) return;
    if (n++ !== point) return;
    const crashes = opts.recoveryCrashes ?? true;
    s.recovery = { crashes, detail: false, site: callSite, counter: { recoveryStates: 0 } };
    out = describeState(s, prog, point, where, choice);
    throw new Stop();
  });
  if (!out) throw new CrashInputError(`replay: the program has fewer than ${point + 1} crash points`);
  return out;
}
