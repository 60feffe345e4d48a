/**
 * One simulated kernel: wires the machine (frames, devices), the profile, the counters, the
 * clock, the tasks and the pending I/O together. Everything below it (mm/, fs/) reaches shared
 * state through this object.
 *
 * Execution model (settled here, see README "Execution model"): tasks are run to completion one
 * operation at a time, each with its own simulated clock; the kernel always runs the operation of
 * the task whose clock is earliest. Where Linux sleeps (waiting for I/O on a locked folio, a
 * journal commit), the sleeping task's clock jumps to the wake-up time and pending completions up
 * to that time are applied; where Linux drops mmap_lock and returns VM_FAULT_RETRY, the model does
 * the same and the arch-level loop re-runs the fault, exactly as the kernel does. No generator or
 * closure is created per fault, and an access that hits a present PTE never enters this code.
 */
import { assert, panic } from '../lib/assert.ts';
import { EventHeap } from '../lib/event-heap.ts';
import { Frames } from '../hw/frames.ts';
import { Vmstat, Events } from './counters.ts';
import { mergeCosts, type CostTable } from './costs.ts';
import { COST, N_COST, type CostCategory } from '../lib/cost-category.ts';
import type { KernelProfile } from './profiles.ts';
import { Mm, VmFault } from '../mm/mm.ts';
import { Pgd } from '../mm/pgtable.ts';
import type { Vfs } from '../fs/vfs.ts';
import type { File, Inode, AddressSpace, SuperBlock } from '../fs/fs.ts';
import type { Lru } from '../mm/lru.ts';
import type { PmemDevice } from '../hw/pmem.ts';
import type { Tracepoints } from '../lib/tracepoints.ts';
import { OWNER_KERNEL } from '../hw/frames.ts';

export interface SignalInfo {
  signo: number;
  code: number;
  addr: number;
}

export class Process {
  readonly pid: number;
  readonly mm: Mm;
  readonly fds: Array<File | null> = [];
  readonly tasks: Task[] = [];
  readonly name: string;
  constructor(pid: number, name: string, mm: Mm) {
    this.pid = pid;
    this.name = name;
    this.mm = mm;
  }
}

/** One user page fault as the trace reports it. */
export interface FaultTraceEvent {
  task: string;
  tid: number;
  /** Faulting virtual address. */
  addr: number;
  write: boolean;
  /** Simulated time the access faulted and the time the fault returned (ns). */
  startNs: number;
  endNs: number;
  /** Counted as: 'major', 'minor', or 'none' (a fault that ended in a signal is not counted). */
  counted: 'major' | 'minor' | 'none';
  /** Page-table entries the fault installed: PTEs plus huge PMD leaves (pmdLeaves of them). */
  entries: number;
  pmdLeaves: number;
  /** The signal the access got (SIGSEGV 11, SIGBUS 7, SIGKILL 9), or 0. */
  signal: number;
  /** Simulated ns of this fault per cost category (costs.ts COST); a reused array, valid during the call. */
  costNs: Float64Array;
}

export class Task {
  readonly tid: number;
  readonly name: string;
  readonly process: Process;
  clockNs = 0;
  /** task->min_flt / maj_flt (getrusage ru_minflt / ru_majflt). */
  minflt = 0;
  majflt = 0;
  /** The last signal delivered by an access (what a sigsetjmp loop would see). */
  lastSignal: SignalInfo | null = null;
  readonly vmf = new VmFault();
  /**
   * Simulated ns charged to this task per cost category (costs.ts COST), for `--breakdown`. Loads
   * and stores that hit a present entry are counted in `accessHits` instead (one integer add on
   * the hottest path); `costNsOf` folds them into COST.accessHit.
   */
  readonly costNs = new Float64Array(N_COST);
  accessHits = 0;
  constructor(tid: number, name: string, process: Process) {
    this.tid = tid;
    this.name = name;
    this.process = process;
  }
}

/** A pending completion: I/O finishing at `doneNs`, applied by `fn` when simulated time reaches it. */
interface PendingEvent {
  doneNs: number;
  seq: number;
  fn: () => void;
}

/** mmap_base for a fresh process: below a 128 MiB stack gap under TASK_SIZE (no randomisation). */
export const DEFAULT_MMAP_BASE = 0x7ffff7fff000; // TASK_SIZE - 128 MiB (mmap_base() with MIN_GAP, no ASLR)

export class Kernel {
  readonly profile: KernelProfile;
  readonly frames: Frames;
  readonly vmstat = new Vmstat();
  readonly events = new Events();
  costs: CostTable;
  /** The LRU lists and reclaim (mm/vmscan.c), set by the machine builder (api/machine.ts). */
  lru!: Lru;
  /** Runtime value of debugfs fault_around_bytes. */
  faultAroundBytes: number;
  readonly processes: Process[] = [];
  readonly tasks: Task[] = [];
  current!: Task;
  /**
   * True while the scheduler runs more than one task (sched.ts runConcurrently). Then faults stamp
   * the page-table entries they install with the time they become visible to the mm's other
   * tasks, and DAX entry locks keep their hold intervals; single-task runs skip both.
   */
  concurrent = false;
  /** Number of spinlocks the current task holds (PTE lock, xa_lock): sleeping under one is a bug. */
  spinDepth = 0;
  /** lockdep-style warnings recorded instead of stopping (reference: Kani RFC runs as posted). */
  readonly lockdepReports: string[] = [];
  /**
   * Called at every crash point (store to pmem, flush, fence, syscall and fault boundary) while the
   * crash explorer runs.
   */
  crashHook: ((where: string) => void) | null = null;
  /**
   * The address and process of the user fault at the last 'fault' crash point (set just before
   * crashHook('fault')): a fault changes page-table entries only around its address.
   */
  crashFaultAddr = -1;
  crashFaultPid = -1;
  /**
   * Called after every user page fault when set (like the exceptions:page_fault_user tracepoint
   * plus its outcome): `daxsim run --trace`, Machine.traceFaults. Null costs one branch per fault.
   */
  faultTrace: ((e: FaultTraceEvent) => void) | null = null;
  /** The tracepoints (`daxsim run --trace ftrace|perfetto`); null costs one branch per site. */
  tracer: Tracepoints | null = null;
  /**
   * Called when fsync/msync of a DAX file completes (its file pages firstIndex..lastIndex), while
   * the crash explorer runs.
   */
  syncHook: ((inode: Inode, firstIndex: number, lastIndex: number) => void) | null = null;
  /** Huge zero page, allocated on first use (get_huge_zero_page). */
  hugeZeroPfn = -1;
  /** Anonymous THPs mapped by a PMD (meminfo AnonHugePages / 2 MiB). */
  anonThpPmdMapped = 0;
  /** Page-cache folios mapped by a PMD (meminfo FilePmdMapped / 2 MiB). */
  filePmdMapped = 0;
  /** The VFS (mount table, inode references), set by the machine builder: mm/ reaches fs/ only through it. */
  vfs!: Vfs;
  /** Persistent-memory devices; their PFNs lie above DRAM (pfnBase >= totalPages). */
  readonly pmems: PmemDevice[] = [];
  /** Lowest PFN of any pmem device (Infinity without pmem): the hot path's one comparison. */
  pmemBase = Infinity;
  private readonly inodeTable = new Map<number, Inode>();
  private nextIno = 12;
  private pending = new EventHeap();
  private seq = 0;
  private nextPid = 1;

  constructor(profile: KernelProfile, memoryBytes: number, costs: Partial<CostTable> = {}) {
    this.profile = profile;
    this.frames = new Frames(memoryBytes);
    this.costs = mergeCosts(costs);
    this.faultAroundBytes = profile.faultAroundBytes;
  }

  allocIno(): number { return this.nextIno++; }

  /** Attach a pmem device (its PFN range must lie above DRAM and not overlap another). */
  addPmem(d: PmemDevice): void {
    assert(d.pfnBase >= this.frames.totalPages, `pmem ${d.name}: PFN base below the end of DRAM`);
    for (const o of this.pmems) {
      assert(d.pfnBase >= o.pfnEnd || d.pfnEnd <= o.pfnBase, `pmem ${d.name} overlaps ${o.name}`);
    }
    this.pmems.push(d);
    this.pmemBase = Math.min(this.pmemBase, d.pfnBase);
  }

  private pmemOf(pfn: number): PmemDevice {
    for (const d of this.pmems) if (pfn >= d.pfnBase && pfn < d.pfnEnd) return d;
    return panic(`PFN ${pfn} is neither DRAM nor pmem`);
  }

  /** A CPU load of byte `off` of physical page `pfn` (DRAM frame or pmem through the CPU cache). */
  readPhys(pfn: number, off: number): number {
    return pfn < this.pmemBase ? this.frames.readByte(pfn, off) : this.pmemOf(pfn).readByte(pfn, off);
  }

  /** A CPU store to physical page `pfn` (pmem: the line becomes dirty in the CPU cache). */
  writePhys(pfn: number, off: number, value: number): void {
    if (pfn < this.pmemBase) this.frames.writeByte(pfn, off, value);
    else this.pmemOf(pfn).writeByte(pfn, off, value);
  }

  /** copy_user_highpage from any physical page (DRAM or pmem) into DRAM frame `dst`. */
  copyPhysToFrame(dst: number, src: number): void {
    if (src < this.pmemBase) this.frames.copyFrame(dst, src);
    else {
      const d = this.pmemOf(src);
      const v = d.readBlock(src - d.pfnBase);
      this.frames.restore(dst, v);
    }
  }

  /** One cache-line write-back instruction on a pmem physical byte address. */
  pmemFence(physAddr: number, insn: 'clwb' | 'clflushopt' | 'clflush'): void {
    const d = this.pmemOf(Math.floor(physAddr / 4096));
    if (insn === 'clwb') d.clwb(physAddr);
    else if (insn === 'clflushopt') d.clflushopt(physAddr);
    else d.clflush(physAddr);
  }

  /** arch_wb_cache_pmem over `nPages` pages from `pfn` (CLWB per line + SFENCE). */
  pmemFlush(pfn: number, nPages: number): number {
    const lines = this.pmemOf(pfn).writebackPages(pfn, nPages);
    this.charge(lines * this.costs.cacheLineFlushNs, COST.cacheFlush);
    return lines;
  }

  /** get_huge_zero_page: the global huge zero page, allocated on first use (thp_zero_page_alloc). */
  hugeZeroPage(): number {
    if (this.hugeZeroPfn >= 0) return this.hugeZeroPfn;
    const pfn = this.allocPages(9);
    if (pfn < 0) return -1;
    for (let i = 0; i < 512; i++) { this.frames.fillFrame(pfn + i, 0); this.frames.owner[pfn + i] = OWNER_KERNEL; }
    this.hugeZeroPfn = pfn;
    this.vmstat.thp_zero_page_alloc++;
    return pfn;
  }
  registerInode(inode: Inode): void { this.inodeTable.set(inode.ino, inode); }
  /** The address_space of inode `ino` (page->mapping), or null. */
  mappingOf(ino: number): AddressSpace | null {
    return ino > 0 ? this.inodeTable.get(ino)?.mapping ?? null : null;
  }
  superblocks(): readonly SuperBlock[] { return this.vfs.mounts; }

  /** Forget an evicted inode (its PFNs no longer name a mapping). */
  unregisterInode(inode: Inode): void { this.inodeTable.delete(inode.ino); }

  /** Create a process with one task (fork+exec of a fresh program). */
  createProcess(name: string): Process {
    const pgdPfn = this.allocKernelPage();
    if (pgdPfn < 0) panic('out of memory creating a process');
    const mm = new Mm(new Pgd(pgdPfn), DEFAULT_MMAP_BASE);
    mm.pgtablePages = 1;
    const p = new Process(this.nextPid++, name, mm);
    this.processes.push(p);
    this.createTask(p, name);
    return p;
  }

  createTask(p: Process, name: string): Task {
    const t = new Task(this.tasks.length + 1000, name, p);
    t.clockNs = this.current ? this.current.clockNs : 0;
    p.tasks.push(t);
    this.tasks.push(t);
    if (!this.current) this.current = t;
    return t;
  }

  /** Make `t` the running task and apply completions that are due by its clock. */
  switchTo(t: Task): void {
    this.current = t;
    this.runDue();
  }

  now(): number {
    return this.current.clockNs;
  }

  /** Charge simulated time to the running task, under `category` (costs.ts COST). Allocates nothing. */
  charge(ns: number, category: CostCategory): void {
    const t = this.current;
    t.clockNs += ns;
    t.costNs[category]! += ns;
  }

  /** Move `task`'s clock forward to `ns` (a sleep or wait), charging the gap to `category`. */
  waitUntil(task: Task, ns: number, category: CostCategory): void {
    if (ns <= task.clockNs) return;
    task.costNs[category]! += ns - task.clockNs;
    task.clockNs = ns;
  }

  /** Schedule `fn` to run when simulated time reaches `doneNs` (I/O completion). */
  schedule(doneNs: number, fn: () => void): void {
    const e: PendingEvent = { doneNs, seq: this.seq++, fn };
    // A heap keyed by (doneNs, seq): the order a sorted list gives, O(log n) per event.
    this.pending.push(e);
  }

  /** Apply every pending completion due at or before the current task's clock. */
  runDue(): void {
    const now = this.current.clockNs;
    while (this.pending.length > 0 && this.pending.peek()!.doneNs <= now) {
      const e = this.pending.pop();
      e.fn();
    }
  }

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /**
   * Sleep until `cond()` holds (the current task waits, e.g. on a folio lock held by I/O):
   * advance its clock to each next completion until the condition is true. Asserts that no
   * spinlock is held (might_sleep) and that something can wake the task.
   */
  sleepUntil(cond: () => boolean, what: string): void {
    this.mightSleep(what);
    while (!cond()) {
      const e = this.pending.peek();
      if (!e) panic(`task ${this.current.name} sleeps forever waiting for ${what}`);
      this.waitUntil(this.current, e.doneNs, COST.ioWait);
      this.runDue();
    }
  }

  /** might_sleep(): sleeping while holding a spinlock is a kernel bug. */
  mightSleep(what: string): void {
    assert(this.spinDepth === 0, `sleeping (${what}) while holding a spinlock`);
  }

  /** Record a lockdep-style report instead of stopping (used by RFC profiles run "as posted"). */
  lockdepWarn(msg: string): void {
    this.events.lockdepWarnings++;
    if (this.lockdepReports.length < 100) this.lockdepReports.push(msg);
  }

  /** Allocate one kernel-owned page (page tables); -1 when memory is exhausted even after reclaim. */
  allocKernelPage(): number {
    const pfn = this.allocPages(0);
    return pfn;
  }

  /**
   * alloc_pages: take 2^order frames, reclaiming page cache first when free memory falls under the
   * low watermark (kswapd's job, done synchronously here). Returns -1 when nothing can be freed.
   */
  allocPages(order: number): number {
    const f = this.frames;
    if (f.freePages - (1 << order) < this.lru.lowWatermarkPages) {
      this.lru.reclaim((1 << order) + this.lru.highWatermarkPages - f.freePages);
    }
    let pfn = f.alloc(order);
    if (pfn < 0) {
      this.lru.reclaim(1 << order);
      pfn = f.alloc(order);
    }
    return pfn;
  }
}
