/**
 * The TypeScript API: a simulated machine running one kernel profile, and processes whose
 * methods mirror Linux system calls by name, arguments and errno.
 *
 * Conventions (one for the whole API):
 * - A syscall returns a non-negative result, or -errno exactly as the raw system call does
 *   (`errnoName(-r)` names it).
 * - An access (`load`, `store`, `access`) that ends in a signal returns -signo (-7 SIGBUS,
 *   -11 SIGSEGV, -9 SIGKILL for the OOM killer) and records `lastSignal` ({signo, code, addr});
 *   the process continues afterwards, as after a sigsetjmp/siglongjmp.
 */
import { downRead, downWrite, SimRwsem, upRead, upWrite } from '../lib/rwsem.ts';
import { Kernel, type Process as KProcess, type Task, type FaultTraceEvent } from '../kernel/kernel.ts';
import { resolveProfile } from '../kernel/profiles.ts';
import type { CostTable } from '../kernel/costs.ts';
import { assertions } from '../lib/assert.ts';
import { BlockDevice } from '../hw/blockdev.ts';
import { PmemDevice } from '../hw/pmem.ts';
import { SuperBlock } from '../fs/fs.ts';
import { Tmpfs } from '../mm/shmem.ts';
import { tmpfsMaxPages } from '../mm/shmem-limit.ts';
import { Ext4 } from '../fs/ext4/ext4.ts';
import { Xfs } from '../fs/xfs/xfs.ts';
import type { XfsMkfsOptions } from '../scenario/types.ts';
import type { Placement } from '../fs/ext4/balloc.ts';
import { doMmap, doMunmap, doMprotect, doMadvise } from '../mm/mmap.ts';
import { doUserAddrFault } from '../mm/fault.ts';
import { pteTableOf, pmdTableOf, pmdIndex, pteIndex, type PteTable } from '../mm/pgtable.ts';
import { _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_ACCESSED, _PAGE_RW, _PAGE_DIRTY, _PAGE_SPECIAL, _PAGE_DEVMAP,
  PMD_SIZE } from '../mm/constants.ts';
import { sysOpen, sysClose, fileRead, fileWrite, sysFtruncate, sysFallocate, sysFsync, sysUnlink, sysStat,
  sysMsync, dropCaches, type StatResult, type WriteSource } from '../fs/syscalls.ts';
import { EBADF, ENODEV, EBUSY, EINVAL, ENOENT, EFAULT, ENOMEM, EFBIG, SIGSEGV, SEGV_MAPERR } from '../lib/errno.ts';
import { abiInts, abiSizeT, MAX_RW_COUNT } from '../lib/abi.ts';
import { newsizeOk, writeLimit, readLimit } from '../fs/limits.ts';
import { remount } from '../fs/remount.ts';
import { faultAroundBytesSet } from '../kernel/profiles.ts';
import { Lru, LRU_ACTIVE_FILE, LRU_INACTIVE_FILE, LRU_ACTIVE_ANON, LRU_INACTIVE_ANON } from '../mm/lru.ts';
import { Vfs } from '../fs/vfs.ts';
import { PG_dirty, PG_writeback, PG_swapbacked, OWNER_ANON } from '../hw/frames.ts';
import type { Vma } from '../mm/mm.ts';
import { copyProcess, doExit, waitChild, procState } from '../kernel/fork.ts';
import { doMremap } from '../mm/mremap.ts';
import { doMlock, doMunlock, doMlockall, doMunlockall } from '../mm/mlock.ts';
import { UserBuffer } from '../mm/uaccess.ts';
import { sysMkdir } from '../fs/dirs.ts';
import { doMincore } from '../mm/mincore.ts';
import type { ReadTarget } from '../fs/syscalls.ts';
import { COST } from '../lib/cost-category.ts';

/** mkfs.xfs with no geometry options. */
const NO_XFS_OPTIONS: XfsMkfsOptions = { suBytes: 0, sw: 0, extsizeBytes: 0 };

export interface DeviceConfig {
  name: string;
  /** 'block': a virtio-blk-like disk; 'pmem': persistent memory (/dev/pmemN), byte-addressable, DAX-capable. */
  type: 'block' | 'pmem';
  sizeBytes: number;
  latencyNs?: number;
  /**
   * Where ext4 puts new blocks (BlockAllocator): 'mballoc' (the default: ext4's normalised, buddy-aligned
   * allocations), 'aligned' or 'unaligned'.
   */
  placement?: Placement;
  /** pmem only: false for a platform whose persistence domain includes the CPU caches (eADR). */
  writeCache?: boolean;
  /** /sys/block/DEV/queue/read_ahead_kb: the readahead window of files on it (default: the profile's, 128). */
  readAheadKb?: number;
  /** /sys/block/DEV/queue/max_sectors_kb: the largest request (default 1280, BLK_DEF_MAX_SECTORS). */
  maxSectorsKb?: number;
}

export interface MachineConfig {
  profile: string;
  knobs?: Record<string, unknown>;
  memoryBytes: number;
  cpus?: number;
  devices?: DeviceConfig[];
  costs?: Partial<CostTable>;
}

export class Machine {
  readonly k: Kernel;
  readonly devices = new Map<string, {
    dev: BlockDevice | PmemDevice; pmem: PmemDevice | null; fs: 'ext4' | 'xfs' | null; placement: Placement;
    cfg: DeviceConfig; xfs: XfsMkfsOptions;
  }>();
  private readonly procs = new Map<string, Process>();
  private nextPmemPfn = 0;

  constructor(cfg: MachineConfig) {
    const profile = resolveProfile(cfg.profile, cfg.knobs ?? {});
    this.k = new Kernel(profile, cfg.memoryBytes, cfg.costs ?? {});
    // The machine builder wires the mechanisms into the context (the kernel imports none of them).
    this.k.lru = new Lru(this.k);
    this.k.vfs = new Vfs(this.k);
    for (const d of cfg.devices ?? []) {
      if (this.devices.has(d.name)) throw new Error(`machine.devices: device "${d.name}" declared twice`);
      if (d.readAheadKb !== undefined && (!Number.isInteger(d.readAheadKb) || d.readAheadKb < 0)) {
        throw new Error(`machine.devices: device "${d.name}": readAheadKb must be a whole number of KiB >= 0, got ` +
          `${d.readAheadKb}`);
      }
      if (d.maxSectorsKb !== undefined && (!Number.isInteger(d.maxSectorsKb) || d.maxSectorsKb < 4)) {
        throw new Error(`machine.devices: device "${d.name}": maxSectorsKb must be a whole number of KiB >= 4, got ` +
          `${d.maxSectorsKb}`);
      }
      if (d.type === 'pmem') {
        // Physical layout: pmem sits above DRAM, at or above 4 GiB, each device 1 GiB-aligned
        // (like memmap=1G!4G in the oracle guest).
        const base = Math.max(2 ** 20,
          Math.ceil(Math.max(this.k.frames.totalPages, this.nextPmemPfn) / 2 ** 18) * 2 ** 18);
        const pm = new PmemDevice({ name: d.name, sizeBytes: d.sizeBytes, pfnBase: base,
          writeCache: d.writeCache ?? true, requestLatencyNs: d.latencyNs });
        this.k.addPmem(pm);
        this.nextPmemPfn = pm.pfnEnd;
        this.devices.set(d.name, { dev: pm, pmem: pm, fs: null, placement: d.placement ?? 'mballoc', cfg: d,
          xfs: NO_XFS_OPTIONS });
      } else {
        const dev = new BlockDevice({ name: d.name, sizeBytes: d.sizeBytes,
          requestLatencyNs: d.latencyNs ?? this.k.costs.blockRequestNs, nsPerByte: this.k.costs.blockNsPerByte });
        this.devices.set(d.name, { dev, pmem: null, fs: null, placement: d.placement ?? 'mballoc', cfg: d,
          xfs: NO_XFS_OPTIONS });
      }
    }
  }

  /**
   * mkfs.FS on a block device; returns 0 or -errno (ENODEV: no such device). xfs takes its
   * geometry options (stripe unit and width, extent size hint) and is made only on pmem.
   */
  mkfs(device: string, fs: 'ext4' | 'xfs', placement?: Placement, xfs: XfsMkfsOptions = NO_XFS_OPTIONS): number {
    const d = this.devices.get(device);
    if (!d) return -ENODEV;
    if (fs === 'xfs' && !d.pmem) throw new Error(`mkfs xfs on ${device}: xfs is modelled only on pmem (with -o dax)`);
    d.fs = fs;
    d.xfs = xfs;
    if (placement) d.placement = placement;
    return 0;
  }

  /**
   * mount(2): tmpfs needs no device; ext4 needs a device made by mkfs. Returns 0 or -errno. tmpfs
   * takes `size=` and `nr_blocks=` (default half of RAM, src/mm/shmem-limit.ts); an option tmpfs
   * refuses is EINVAL, and one the model does not model (huge= other than never) throws.
   */
  mount(target: string, fs: 'tmpfs' | 'ext4' | 'xfs', device?: string, options: readonly string[] = []): number {
    if (this.k.vfs.mounts.some((m) => m.mountPoint === target)) return -EBUSY;
    if (fs === 'tmpfs') {
      const max = tmpfsMaxPages(options, this.k.frames.totalPages);
      if (typeof max === 'string') {
        if (max.includes('not modelled')) throw new Error(`mount ${target}: ${max}`);
        return -EINVAL;
      }
      this.k.vfs.mount(new SuperBlock(new Tmpfs(this.k, max), target, options));
      return 0;
    }
    const d = device ? this.devices.get(device) : undefined;
    if (!d) return -ENODEV;
    const dax = options.some((o) => o === 'dax' || o === 'dax=always');
    if (fs === 'xfs') return this.mountXfs(target, d, dax, options);
    if (d.fs !== 'ext4') return -EINVAL; // no filesystem on the device
    // ext4 refuses -o dax on a device without DAX support (a block disk).
    if (dax && !d.pmem) return -EINVAL;
    const sb = new SuperBlock(new Ext4(this.k, d.dev, d.placement, dax ? d.pmem : null), target, options);
    if (d.cfg.readAheadKb !== undefined) sb.raPages = Math.floor(d.cfg.readAheadKb / 4);
    if (d.cfg.maxSectorsKb !== undefined) sb.ioPages = Math.max(1, Math.floor(d.cfg.maxSectorsKb / 4));
    this.k.vfs.mount(sb);
    return 0;
  }

  /** mount -t xfs -o dax: the model has xfs only with DAX, on a device mkfs made xfs. */
  private mountXfs(target: string, d: { pmem: PmemDevice | null; fs: string | null; xfs: XfsMkfsOptions },
    dax: boolean, options: readonly string[]): number {
    if (d.fs !== 'xfs') return -EINVAL; // xfs_fs_fill_super finds no xfs superblock
    if (!dax || !d.pmem) throw new Error(`mount ${target}: xfs is modelled only with -o dax on pmem`);
    this.k.vfs.mount(new SuperBlock(new Xfs(this.k, d.pmem, d.xfs), target, options));
    return 0;
  }

  /** mount(2) MS_REMOUNT of the filesystem mounted at `target`, read-only or read-write (fs/remount.ts). */
  remount(target: string, readOnly: boolean): number {
    return remount(this.k, target, readOnly);
  }

  /** The process named `name`, created on first use with one thread of the same name. */
  process(name = 'main'): Process {
    let p = this.procs.get(name);
    if (!p) {
      const kp = this.k.createProcess(name);
      p = new Process(this, kp, kp.tasks[0]!);
      this.procs.set(name, p);
    }
    return p;
  }

  /**
   * fork(2) of `parent` (a single-threaded process): a new process `name` with a copy of its
   * address space and descriptors (src/kernel/fork.ts, src/mm/fork.ts). Throws when the name is
   * taken.
   */
  fork(parent: Process, name: string): Process {
    if (this.procs.has(name)) throw new Error(`fork: a process named "${name}" exists already`);
    const k = this.k;
    if (k.current !== parent.task) k.switchTo(parent.task);
    const { child } = copyProcess(k, parent.kp, name);
    const p = new Process(this, child, child.tasks[0]!);
    this.procs.set(name, p);
    return p;
  }

  /** A further thread of process `proc` sharing its mm and files. */
  thread(proc: Process, name: string): Process {
    const t = this.k.createTask(proc.kp, name);
    return new Process(this, proc.kp, t);
  }

  /** echo 3 > /proc/sys/vm/drop_caches. Returns pages dropped. */
  dropCaches(): number {
    return dropCaches(this.k, this.k.vfs.mounts);
  }

  /** Write debugfs fault_around_bytes (the kernel rounds as fault_around_bytes_set does). */
  setFaultAroundBytes(v: number): void {
    this.k.faultAroundBytes = faultAroundBytesSet(v);
  }

  /** /proc/vmstat event counters. */
  vmstat(): Record<string, number> {
    return this.k.vmstat.snapshot();
  }

  /** /proc/meminfo figures in kB, with the kernel's names. */
  meminfo(): Record<string, number> {
    const k = this.k;
    const f = k.frames;
    k.lru.drain();
    let cached = 0, shmem = 0, dirty = 0, writeback = 0, mapped = 0;
    for (const sb of k.vfs.mounts) for (const inode of sb.inodes.values()) {
      const m = inode.mapping;
      cached += m.nrpages;
      m.pages.forEach(0, Infinity, (_i, e) => {
        if (e % 2 === 1) return;
        const h = e / 2 - 1;
        const n = 1 << f.order[h]!;
        if (f.flags[h]! & PG_swapbacked) shmem += n;
        if (f.flags[h]! & PG_dirty) dirty += n;
        if (f.flags[h]! & PG_writeback) writeback += n;
        for (let j = 0; j < n; j++) if (f.mapcount[h + j]! > 0) mapped++;
      });
    }
    let pageTables = 0, anon = 0;
    for (const p of k.processes) { pageTables += p.mm.pgtablePages; anon += p.mm.rssAnon; }
    return {
      MemTotal: f.totalPages * 4,
      MemFree: f.freePages * 4,
      Cached: cached * 4,
      Shmem: shmem * 4,
      Dirty: dirty * 4,
      Writeback: writeback * 4,
      AnonPages: anon * 4,
      AnonHugePages: this.k.anonThpPmdMapped * 2048,
      FilePmdMapped: this.k.filePmdMapped * 2048,
      Mapped: mapped * 4,
      PageTables: pageTables * 4,
      'Active(file)': k.lru.count[LRU_ACTIVE_FILE]! * 4,
      'Inactive(file)': k.lru.count[LRU_INACTIVE_FILE]! * 4,
      'Active(anon)': k.lru.count[LRU_ACTIVE_ANON]! * 4,
      'Inactive(anon)': k.lru.count[LRU_INACTIVE_ANON]! * 4,
    };
  }

  /**
   * Model counters (tracepoint-style), e.g. faultaroundPagesMapped; in concurrent runs also the
   * waits for another task's fault: faultInstallWaits/faultInstallWaitNs (an entry being
   * installed) and daxEntryWaits/daxEntryWaitNs (a DAX entry lock held).
   */
  modelEvents(): Record<string, number> {
    const e = this.k.events.snapshot();
    // Cache-line write-backs issued to persistent memory (CLWB/CLFLUSHOPT/CLFLUSH), all devices.
    e['cacheLinesFlushed'] = this.k.pmems.reduce((n, d) => n + d.linesFlushed, 0);
    return e;
  }

  /**
   * Call `cb` after every user page fault (null: stop), with what the fault did and, in `where`,
   * the file and page offset it faulted on ("anon" for anonymous memory).
   */
  traceFaults(cb: ((e: FaultTraceEvent & { where: string }) => void) | null): void {
    if (cb === null) { this.k.faultTrace = null; return; }
    this.k.faultTrace = (e) => {
      const task = this.k.tasks.find((t) => t.tid === e.tid);
      const vma = task ? task.process.mm.findVma(e.addr) : null;
      let where = '?';
      if (vma && vma.start <= e.addr) {
        where = vma.file ? `${vma.file.path} page ${vma.pgoff + Math.floor((e.addr - vma.start) / 4096)}` : 'anon';
      }
      cb({ ...e, where });
    };
  }

  /** Switch assertions off (benchmarks) or on. */
  static setAssertions(on: boolean): void {
    assertions.enabled = on;
  }
}

/**
 * Advice that madvise_need_mmap_write (mm/madvise.c v6.1/v6.18) lets run under mmap_lock held for
 * read: WILLNEED 3, DONTNEED 4, FREE 8, REMOVE 9, COLD 20, PAGEOUT 21, POPULATE_READ 22,
 * POPULATE_WRITE 23, DONTNEED_LOCKED 24, COLLAPSE 25. Every other advice writes the VMA flags.
 */
const MADV_READ_LOCKED: ReadonlySet<number> = new Set([3, 4, 8, 9, 20, 21, 22, 23, 24, 25]);

export class Process {
  readonly machine: Machine;
  readonly kp: KProcess;
  readonly task: Task;
  private readonly k: Kernel;

  constructor(machine: Machine, kp: KProcess, task: Task) {
    this.machine = machine;
    this.kp = kp;
    this.task = task;
    this.k = machine.k;
  }

  private enter(): Kernel {
    const k = this.k;
    if (k.current !== this.task) k.switchTo(this.task);
    else if (k.hasPending) k.runDue();
    return k;
  }

  get lastSignal() { return this.task.lastSignal; }

  /**
   * A syscall body takes `sem` (down_write, or down_read when `shared`) before it runs and
   * releases it (`unlock`) after, so the hold covers its simulated time; both are no-ops unless
   * other tasks run (lib/rwsem.ts). A pair of calls, not a wrapper taking a closure: the write
   * path allocates nothing.
   */
  private lock(sem: SimRwsem, shared: boolean): void {
    if (shared) downRead(this.k, this.task, sem); else downWrite(this.k, this.task, sem);
  }

  /** Returns `r` after releasing `sem` (up_write, or up_read when `shared`). */
  private unlock(sem: SimRwsem, shared: boolean, r: number): number {
    if (shared) upRead(this.k, this.task, sem); else upWrite(this.k, this.task, sem);
    return r;
  }

  /** A syscall returned: a crash point for the explorer (issue 5). */
  private done(r: number): number {
    const h = this.k.crashHook;
    if (h !== null) h('syscall');
    return r;
  }
  /** getrusage(RUSAGE_SELF) fault counts (this thread's; threads of one process are summed by rusage()). */
  rusage(): { minflt: number; majflt: number } {
    let minflt = 0, majflt = 0;
    for (const t of this.kp.tasks) { minflt += t.minflt; majflt += t.majflt; }
    return { minflt, majflt };
  }
  get clockNs(): number { return this.task.clockNs; }

  open(path: string, flags: number): number { return this.done(sysOpen(this.enter(), this.kp, path, flags)); }
  close(fd: number): number { return this.done(sysClose(this.enter(), this.kp, fd)); }

  /** read(2); `bufAddr`: where the caller's own buffer starts past a page boundary (O_DIRECT's alignment rule). */
  read(fd: number, lengthBytes: number, out: ReadTarget = null, bufAddr = 0): number {
    const k = this.enter();
    if (!abiInts(lengthBytes)) return -EINVAL; // no register holds it: refused first (src/lib/abi.ts)
    const f = this.kp.fds[fd];
    if (!f) return -EBADF;
    if (!f.readable) return -EBADF;
    if (lengthBytes < 0) return -EINVAL; // rw_verify_area: (ssize_t)count < 0
    const n = readLimit(f.inode, f.posBytes, Math.min(lengthBytes, MAX_RW_COUNT));
    const r = fileRead(k, f, f.posBytes, n, out, bufAddr);
    if (r > 0) f.posBytes += r;
    return this.done(r);
  }
  pread(fd: number, lengthBytes: number, offsetBytes: number, out: ReadTarget = null, bufAddr = 0): number {
    const k = this.enter();
    const f = this.kp.fds[fd];
    if (!abiInts(lengthBytes, offsetBytes)) return -EINVAL;
    if (offsetBytes < 0) return -EINVAL; // ksys_pread64 checks pos before the fd
    if (!f) return -EBADF;
    if (!f.readable) return -EBADF; // vfs_read checks FMODE_READ before rw_verify_area
    if (lengthBytes < 0) return -EINVAL;
    const n = readLimit(f.inode, offsetBytes, Math.min(lengthBytes, MAX_RW_COUNT));
    return this.done(fileRead(k, f, offsetBytes, n, out, bufAddr));
  }
  write(fd: number, lengthBytes: number, src: WriteSource, bufAddr = 0): number {
    const k = this.enter();
    if (!abiInts(lengthBytes)) return -EINVAL; // no register holds it: refused first (src/lib/abi.ts)
    const f = this.kp.fds[fd];
    if (!f) return -EBADF;
    const pos = (f.flags & 0x400) ? f.inode.sizeBytes : f.posBytes;
    const n = this.writeCount(f, pos, lengthBytes, src);
    if (n <= 0) return n;
    // ext4_file_write_iter, shmem_file_write_iter (v6.18): inode_lock around the write.
    this.lock(f.inode.iRwsem, false);
    const r = this.unlock(f.inode.iRwsem, false, fileWrite(k, f, pos, n, src, bufAddr));
    if (r > 0) f.posBytes = pos + r;
    return this.done(r);
  }
  /**
   * vfs_write's checks before the filesystem (fs/read_write.c rw_verify_area, mm/filemap.c
   * generic_write_checks, 6.1/6.18): EBADF without write access, EINVAL for a negative count, the
   * count capped at MAX_RW_COUNT and s_maxbytes (EFBIG at or past it), and a buffer shorter than
   * the count is a short write (copy_from_user stops at its end; EFAULT when nothing was copied).
   * Returns the count to write, 0, or -errno.
   */
  private writeCount(f: NonNullable<KProcess['fds'][number]>, pos: number, len: number, src: WriteSource): number {
    if (!abiInts(len, pos)) return -EINVAL;
    if (!f.writable) return -EBADF;
    if (len < 0) return -EINVAL;
    if (len === 0) return 0;
    let n = writeLimit(f.inode, pos, Math.min(len, MAX_RW_COUNT));
    if (n < 0) return n;
    if (src instanceof Uint8Array && src.length < n) n = src.length;
    return n === 0 ? -EFAULT : n;
  }
  pwrite(fd: number, lengthBytes: number, offsetBytes: number, src: WriteSource, bufAddr = 0): number {
    const k = this.enter();
    const f = this.kp.fds[fd];
    if (!abiInts(lengthBytes, offsetBytes) || offsetBytes < 0) return -EINVAL;
    if (!f) return -EBADF;
    // O_APPEND: generic_write_checks moves every write, pwrite's too, to i_size (pwrite(2) BUGS).
    const pos = (f.flags & 0x400) ? f.inode.sizeBytes : offsetBytes;
    const n = this.writeCount(f, pos, lengthBytes, src);
    if (n <= 0) return n;
    this.lock(f.inode.iRwsem, false);
    return this.done(this.unlock(f.inode.iRwsem, false, fileWrite(k, f, pos, n, src, bufAddr)));
  }
  ftruncate(fd: number, sizeBytes: number): number {
    if (!abiInts(sizeBytes) || sizeBytes < 0) return -EINVAL; // do_sys_ftruncate: length < 0
    const f = this.kp.fds[fd];
    if (f && f.writable && newsizeOk(f.inode, sizeBytes) < 0) return -EFBIG;
    // do_truncate (fs/open.c v6.18): inode_lock around notify_change.
    const k = this.enter();
    if (!f) return this.done(sysFtruncate(k, this.kp, fd, sizeBytes));
    this.lock(f.inode.iRwsem, false);
    return this.done(this.unlock(f.inode.iRwsem, false, sysFtruncate(k, this.kp, fd, sizeBytes)));
  }
  fallocate(fd: number, mode: number, offsetBytes: number, lengthBytes: number): number {
    if (!abiInts(mode, offsetBytes, lengthBytes)) return -EINVAL; // before the fd (src/lib/abi.ts)
    if (!this.kp.fds[fd]) return -EBADF;
    // ext4_fallocate, shmem_fallocate (v6.18): inode_lock, then (ext4: punch, zero, collapse,
    // insert; 5.15+ filemap_invalidate_lock, i_mmap_sem before) the mapping's invalidate_lock.
    const k = this.enter();
    const inode = this.kp.fds[fd]!.inode;
    this.lock(inode.iRwsem, false);
    this.lock(inode.mapping.invalidateLock, false);
    const r = sysFallocate(k, this.kp, fd, mode, offsetBytes, lengthBytes);
    this.unlock(inode.mapping.invalidateLock, false, r);
    return this.done(this.unlock(inode.iRwsem, false, r));
  }
  fsync(fd: number): number { return this.done(sysFsync(this.enter(), this.kp, fd, false)); }
  fdatasync(fd: number): number { return this.done(sysFsync(this.enter(), this.kp, fd, true)); }
  unlink(path: string): number { return this.done(sysUnlink(this.enter(), path)); }
  mkdir(path: string): number { return this.done(sysMkdir(this.enter(), path)); }
  stat(path: string): StatResult | number { return sysStat(this.enter(), path); }

  mmap(addr: number, lengthBytes: number, prot: number, flags: number, fd: number, offsetBytes: number,
    name = ''): number {
    if (!abiInts(addr, lengthBytes, prot, flags) || !abiInts(fd, offsetBytes)) return -EINVAL;
    // vm_mmap_pgoff (mm/util.c v6.18): mmap_write_lock around do_mmap (MAP_POPULATE after it).
    const k = this.enter();
    const mm = this.kp.mm;
    this.lock(mm.mmapLock, false);
    return this.done(this.unlock(mm.mmapLock, false,
      doMmap(k, this.kp, addr, abiSizeT(lengthBytes), prot, flags, fd, offsetBytes, name)));
  }
  munmap(addr: number, lengthBytes: number): number {
    if (!abiInts(addr, lengthBytes) || addr < 0) return -EINVAL;
    const k = this.enter(); // __vm_munmap (v6.18): mmap_write_lock
    const mm = this.kp.mm;
    this.lock(mm.mmapLock, false);
    return this.done(this.unlock(mm.mmapLock, false, doMunmap(k, mm, addr, abiSizeT(lengthBytes))));
  }
  mprotect(addr: number, lengthBytes: number, prot: number): number {
    if (!abiInts(addr, lengthBytes, prot) || addr < 0 || addr % 4096 !== 0) return -EINVAL;
    // do_mprotect_pkey (mm/mprotect.c 6.1/6.18): start + PAGE_ALIGN(len) wrapping is ENOMEM.
    if (lengthBytes === 0) return 0; // before the prot check (arch_validate_prot comes after it)
    if (lengthBytes < 0) return -ENOMEM;
    const k = this.enter(); // do_mprotect_pkey (v6.18): mmap_write_lock_killable
    const mm = this.kp.mm;
    this.lock(mm.mmapLock, false);
    return this.done(this.unlock(mm.mmapLock, false, doMprotect(k, mm, addr, lengthBytes, prot)));
  }
  madvise(addr: number, lengthBytes: number, advice: number): number {
    if (!abiInts(addr, lengthBytes, advice) || addr < 0) return -EINVAL;
    // do_madvise (mm/madvise.c 6.1/6.18): an end below the start (a negative size_t) is EINVAL.
    if (lengthBytes < 0) return -EINVAL;
    // madvise_lock (mm/madvise.c v6.18, madvise_need_mmap_write): DONTNEED, FREE, WILLNEED,
    // COLD, PAGEOUT, POPULATE_* and the like take mmap_lock for read, the rest for write.
    const k = this.enter();
    const mm = this.kp.mm, shared = MADV_READ_LOCKED.has(advice);
    this.lock(mm.mmapLock, shared);
    return this.done(this.unlock(mm.mmapLock, shared, doMadvise(k, mm, addr, lengthBytes, advice)));
  }
  msync(addr: number, lengthBytes: number, flags: number): number {
    if (!abiInts(addr, lengthBytes, flags) || addr < 0) return -EINVAL;
    // msync (mm/msync.c 6.1/6.18): the flag checks first, then an end below the start is ENOMEM.
    if (lengthBytes < 0) {
      const r = sysMsync(this.enter(), this.kp, addr, 0, flags);
      return r < 0 ? r : -ENOMEM;
    }
    return this.done(sysMsync(this.enter(), this.kp, addr, lengthBytes, flags));
  }
  /** mremap(2): the new address or -errno (src/mm/mremap.ts). */
  mremap(addr: number, oldLengthBytes: number, newLengthBytes: number, flags: number, newAddr = 0): number {
    const k = this.enter();
    return this.done(doMremap(k, this.task, this.kp.mm, addr, oldLengthBytes, newLengthBytes, flags, newAddr));
  }
  /** mlock2(2) (flags 0 is mlock(2)): 0 or -errno (src/mm/mlock.ts). */
  mlock(addr: number, lengthBytes: number, flags = 0): number {
    return this.done(doMlock(this.enter(), this.task, this.kp.mm, addr, lengthBytes, flags));
  }
  munlock(addr: number, lengthBytes: number): number {
    return this.done(doMunlock(this.enter(), this.kp.mm, addr, lengthBytes));
  }
  mlockall(flags: number): number { return this.done(doMlockall(this.enter(), this.task, this.kp.mm, flags)); }
  munlockall(): number { return this.done(doMunlockall(this.enter(), this.kp.mm)); }

  /** Has this process exited (exit)? */
  get exited(): boolean { return procState(this.kp).exited; }
  /** _exit(status): unmaps everything, closes every descriptor; the process is a zombie until waited for. */
  exit(status = 0): number {
    if (this.exited) throw new Error(`exit: process "${this.kp.name}" has exited already`);
    doExit(this.enter(), this.kp, status);
    return 0;
  }
  /**
   * waitpid(child): the child's exit status (WEXITSTATUS), or -ECHILD when it is not this
   * process's child or was reaped already. Throws when the child is still running (steps run one
   * at a time: the wait would never return).
   */
  waitpid(child: Process): number {
    this.enter();
    if (procState(child.kp).parent === this.kp && !child.exited) {
      throw new Error(`waitpid: process "${child.kp.name}" has not exited`);
    }
    return waitChild(this.kp, child.kp);
  }

  /**
   * The PTE table for `addr` through the one-entry walk cache; null when no table (or a huge PMD).
   * This and `load`/`store` are the hot path: no allocation, a few typed-array reads.
   */
  private walk(addr: number): PteTable | null {
    const mm = this.kp.mm;
    const blk = Math.floor(addr / PMD_SIZE);
    if (mm.walkBlk === blk) return mm.walkPte;
    if (mm.walkLeafBlk === blk) return null; // a huge PMD maps this block: hugeLeaf() handles it
    const t = pteTableOf(mm.pgd, addr);
    if (t) { mm.walkBlk = blk; mm.walkPte = t; }
    return t;
  }

  /** Read one byte at virtual address `addr`; returns 0-255, or -signo. */
  load(addr: number): number {
    if (!Number.isSafeInteger(addr) || addr < 0) return this.badAddress(addr);
    const k = this.enter();
    const task = this.task;
    for (let tries = 0; tries < 64; tries++) {
      const t = this.walk(addr);
      if (t !== null) {
        const i = (addr % PMD_SIZE) >>> 12;
        const fl = t.flags[i]!;
        // A PTE another task's fault installs later in simulated time is not there yet (concurrent runs only).
        if ((fl & _PAGE_PRESENT) !== 0 && (t.visibleFromNs === null || t.visibleFromNs[i]! <= task.clockNs)) {
          if ((fl & _PAGE_ACCESSED) === 0) t.flags[i] = fl | _PAGE_ACCESSED;
          task.clockNs += k.costs.accessHitNs;
          task.accessHits++;
          return k.readPhys(t.pfn[i]!, addr & 4095);
        }
      } else {
        const leaf = this.hugeLeaf(addr, false);
        if (leaf >= 0) return k.readPhys(leaf, addr & 4095);
      }
      const sig = doUserAddrFault(k, task, addr, false);
      if (sig !== 0) return -sig;
    }
    throw new Error(`load 0x${addr.toString(16)}: the fault handler kept returning without mapping the page`);
  }

  /** A syscall's user buffer at [addr, addr + lengthBytes) of this task's address space (mm/uaccess.ts). */
  userBuffer(addr: number, lengthBytes: number): UserBuffer {
    return new UserBuffer(this.enter(), this.task, addr, lengthBytes);
  }

  /** mincore(2) into `vec` (one byte per page); 0 or -errno. */
  mincore(addr: number, lengthBytes: number, vec: Uint8Array): number {
    return this.done(doMincore(this.enter(), this.kp.mm, addr, lengthBytes, vec));
  }

  /**
   * What the CPU does before a store or load commits: make the page at `addr` accessible for the
   * access (faulting as `store`/`load` would) without moving data; 0, or -signo.
   */
  probe(addr: number, write: boolean): number {
    const k = this.enter();
    for (let tries = 0; tries < 64; tries++) {
      if (this.accessOk(addr, write)) return 0;
      const sig = doUserAddrFault(k, this.task, addr, write);
      if (sig !== 0) return -sig;
    }
    throw new Error(`probe 0x${addr.toString(16)}: the fault handler kept returning without mapping the page`);
  }

  /** Whether the entry mapping `addr` allows the access (present; writable for a write). */
  private accessOk(addr: number, write: boolean): boolean {
    const need = write ? _PAGE_PRESENT | _PAGE_RW : _PAGE_PRESENT;
    const t = pteTableOf(this.kp.mm.pgd, addr);
    if (t) return (t.flags[pteIndex(addr)]! & need) === need;
    const pmd = pmdTableOf(this.kp.mm.pgd, addr);
    return pmd !== null && (pmd.leafFlags[pmdIndex(addr)]! & need) === need;
  }

  /** Write one byte at `addr`; returns 0, or -signo. */
  store(addr: number, value: number): number {
    if (!Number.isSafeInteger(addr) || addr < 0) return this.badAddress(addr);
    const k = this.enter();
    const task = this.task;
    for (let tries = 0; tries < 64; tries++) {
      const t = this.walk(addr);
      if (t !== null) {
        const i = (addr % PMD_SIZE) >>> 12;
        const fl = t.flags[i]!;
        if ((fl & (_PAGE_PRESENT | _PAGE_RW)) === (_PAGE_PRESENT | _PAGE_RW)
          && (t.visibleFromNs === null || t.visibleFromNs[i]! <= task.clockNs)) {
          const ad = _PAGE_ACCESSED | _PAGE_DIRTY;
          if ((fl & ad) !== ad) t.flags[i] = fl | ad;
          task.clockNs += k.costs.accessHitNs;
          task.accessHits++;
          k.writePhys(t.pfn[i]!, addr & 4095, value);
          if (k.crashHook !== null && t.pfn[i]! >= k.pmemBase) k.crashHook('store');
          return 0;
        }
      } else {
        const leaf = this.hugeLeaf(addr, true);
        if (leaf >= 0) {
          k.writePhys(leaf, addr & 4095, value);
          if (k.crashHook !== null && leaf >= k.pmemBase) k.crashHook('store');
          return 0;
        }
      }
      const sig = doUserAddrFault(k, task, addr, true);
      if (sig !== 0) return -sig;
    }
    throw new Error(`store 0x${addr.toString(16)}: the fault handler kept returning without a writable PTE`);
  }

  /**
   * An address no user pointer holds (negative: a kernel address; fractional, NaN, infinite: none):
   * the access faults with no VMA, SIGSEGV/SEGV_MAPERR as do_user_addr_fault's bad_area gives.
   */
  private badAddress(addr: number): number {
    this.task.lastSignal = { signo: SIGSEGV, code: SEGV_MAPERR, addr };
    return -SIGSEGV;
  }

  /**
   * Physical page under a huge PMD leaf covering addr (the subpage), or -1 when there is none,
   * for a write when it is not writable, or when it is not yet visible to this task (its stamp,
   * set in concurrent runs, is after the task's clock). Sets Accessed (and Dirty for writes) as the CPU does.
   */
  private hugeLeaf(addr: number, write: boolean): number {
    const mm = this.kp.mm;
    const blk = Math.floor(addr / PMD_SIZE);
    const pmd = mm.walkLeafBlk === blk ? mm.walkLeafPmd : pmdTableOf(mm.pgd, addr);
    if (!pmd) return -1;
    const pi = pmdIndex(addr);
    const fl = pmd.leafFlags[pi]!;
    if (fl === 0) {
      if (mm.walkLeafBlk === blk) { mm.walkLeafBlk = -1; mm.walkLeafPmd = null; }
      return -1;
    }
    // Cache only blocks that really are mapped by a leaf (walk() trusts this to skip the PTE level).
    mm.walkLeafBlk = blk;
    mm.walkLeafPmd = pmd;
    if ((fl & _PAGE_PRESENT) === 0 || (write && (fl & _PAGE_RW) === 0)) return -1; // PROT_NONE leaf, or read-only
    // Installed by another task's fault that ends later in simulated time: fault (and wait) first.
    if (pmd.visibleFromNs !== null && pmd.visibleFromNs[pi]! > this.task.clockNs) return -1;
    pmd.leafFlags[pi] = fl | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
    return pmd.leafPfn[pi]! + pteIndex(addr);
  }

  /**
   * Touch one byte per `strideBytes` in [addr, addr+lengthBytes) (ascending, or descending), like
   * the oracle's C loops; stops at the first signal. Returns -signo at a signal, else the number of
   * accesses made.
   */
  access(addr: number, lengthBytes: number, strideBytes: number, write: boolean, descending = false,
    value = 1): number {
    // A stride that is not a positive whole number would never end the loop (or never move): EINVAL.
    if (!abiInts(lengthBytes, strideBytes) || lengthBytes < 0 || strideBytes <= 0) return -EINVAL;
    const n = Math.ceil(lengthBytes / strideBytes);
    for (let j = 0; j < n; j++) {
      const a = addr + (descending ? n - 1 - j : j) * strideBytes;
      const r = write ? this.store(a, value) : this.load(a);
      if (r < 0) return r;
      if (!write) j += this.readHitsInPage(a, strideBytes, n - 1 - j, descending);
    }
    return n;
  }

  /**
   * After a load at `a` succeeded, the next loads of an access that stay in the same 4 KiB page are
   * TLB hits on the PTE the load just used: nothing in the kernel runs for them. Counts up to
   * `left` of them at once (their time and accessHits, as load would one by one) and returns how
   * many. Only when no event is pending and the table is not a concurrent run's (whose PTEs become
   * visible at a time), so that nothing could change the PTE between those loads.
   */
  private readHitsInPage(a: number, strideBytes: number, left: number, descending: boolean): number {
    if (left === 0 || strideBytes >= 4096 || this.k.hasPending) return 0;
    const off = a & 4095;
    const m = Math.min(left, Math.floor((descending ? off : 4095 - off) / strideBytes));
    if (m === 0) return 0;
    const t = this.walk(a);
    if (t === null) return this.hugeLeaf(a, false) >= 0 ? m : 0; // a PMD mapping: load charges nothing
    const fl = t.flags[(a % PMD_SIZE) >>> 12]!;
    if ((fl & _PAGE_PRESENT) === 0 || t.visibleFromNs !== null) return 0;
    this.task.clockNs += m * this.k.costs.accessHitNs;
    this.task.accessHits += m;
    return m;
  }

  /**
   * CLWB / CLFLUSHOPT / CLFLUSH of every cache line in [addr, addr+lengthBytes): like the
   * instructions, each needs the page mapped (a not-present page faults as a read would) and acts
   * on the physical line; lines of DRAM pages need no write-back. Returns 0 or -signo.
   */
  flush(addr: number, lengthBytes: number, insn: 'clwb' | 'clflushopt' | 'clflush'): number {
    const k = this.enter();
    const first = addr - (addr % 64);
    for (let line = first; line < addr + lengthBytes; line += 64) {
      const r = this.load(line); // brings the page in if needed, exactly as a load would
      if (r < 0) return r;
      const phys = this.physOf(line);
      if (phys < 0 || phys / 4096 < k.pmemBase) continue;
      k.pmemFence(phys, insn);
      if (k.crashHook !== null) k.crashHook(insn);
    }
    return 0;
  }

  /**
   * memcpy out of a mapping (what iozone's mmap read does with each record): every page is touched
   * (faulting as a load would) and the copy is charged at the bandwidth of the memory behind it
   * (pmem or DRAM). Returns bytes copied, or -signo.
   */
  memcpyFrom(addr: number, lengthBytes: number): number {
    const k = this.enter();
    let done = 0;
    for (let a = addr; a < addr + lengthBytes;) {
      const n = Math.min(4096 - (a % 4096), addr + lengthBytes - a);
      const r = this.load(a);
      if (r < 0) return r;
      const phys = this.physOf(a);
      k.charge(n * (phys / 4096 >= k.pmemBase ? k.costs.pmemReadNsPerByte : k.costs.dramReadNsPerByte), COST.memcpy);
      a += n;
      done += n;
    }
    return done;
  }

  /**
   * SFENCE / MFENCE make earlier CLWB/CLFLUSHOPT write-backs and non-temporal stores durable; LFENCE
   * orders neither (Intel SDM vol. 2A SFENCE, MFENCE, LFENCE; src/hw/pmem.ts).
   */
  fence(insn: 'sfence' | 'mfence' | 'lfence'): number {
    if (insn !== 'sfence' && insn !== 'mfence' && insn !== 'lfence') {
      throw new RangeError(`fence: unknown instruction "${String(insn)}" (sfence, mfence or lfence)`);
    }
    const k = this.enter();
    if (insn !== 'lfence') for (const d of k.pmems) d.sfence();
    if (k.crashHook !== null) k.crashHook(insn);
    return 0;
  }

  /** Physical byte address behind a mapped virtual address, or -1. */
  private physOf(addr: number): number {
    const t = pteTableOf(this.kp.mm.pgd, addr);
    if (t) {
      const i = pteIndex(addr);
      return (t.flags[i]! & _PAGE_PRESENT) ? t.pfn[i]! * 4096 + (addr % 4096) : -1;
    }
    const pmd = pmdTableOf(this.kp.mm.pgd, addr);
    if (!pmd || pmd.leafFlags[pmdIndex(addr)] === 0) return -1;
    return (pmd.leafPfn[pmdIndex(addr)]! + pteIndex(addr)) * 4096 + (addr % 4096);
  }

  /** The VMA containing addr (for reports), or null. */
  vmaAt(addr: number): Vma | null {
    const v = this.kp.mm.findVma(addr);
    return v && v.start <= addr ? v : null;
  }

  /** smaps-style figures for the VMA at addr: Rss (kB) counts present PTEs of normal pages. */
  smaps(addr: number): Record<string, number | string> | number {
    const v = this.vmaAt(addr);
    if (!v) return -ENOENT;
    let rss = 0, anon = 0, anonHuge = 0, filePmd = 0;
    const f = this.k.frames;
    for (let va = v.start; va < v.end; va += 4096) {
      const pmd = pmdTableOf(this.kp.mm.pgd, va);
      const lf = pmd ? pmd.leafFlags[pmdIndex(va)]! : 0;
      if (lf !== 0 && (lf & _PAGE_PRESENT) === 0 && !this.k.profile.smapsVmNormalPagePmd) {
        // PROT_NONE PMD: follow_trans_huge_pmd refuses it (6.1).
        va = Math.floor(va / PMD_SIZE) * PMD_SIZE + PMD_SIZE - 4096;
        continue;
      }
      if (lf !== 0) {
        const pfn = pmd!.leafPfn[pmdIndex(va)]!;
        // A DAX PMD (devmap) adds one page to Rss in 6.1 smaps (follow_trans_huge_pmd), none from 6.6
        // (vm_normal_page_pmd), a 6.15+ DAX folio its 512 (daxFolios; no FilePmdMapped for ZONE_DEVICE);
        // the huge zero page adds nothing; a THP or a page-cache folio mapped by a PMD adds its 512.
        const p = this.k.profile;
        if (lf & _PAGE_DEVMAP) rss += p.daxFolios ? 512 : p.smapsVmNormalPagePmd ? 0 : 1;
        else if (pfn < this.k.pmemBase && f.owner[pfn] === OWNER_ANON) { rss += 512; anon += 512; anonHuge += 512; }
        else if (pfn < this.k.pmemBase && f.owner[pfn]! > 0) { rss += 512; filePmd += 512; }
        va = Math.floor(va / PMD_SIZE) * PMD_SIZE + PMD_SIZE - 4096;
        continue;
      }
      const t = pteTableOf(this.kp.mm.pgd, va);
      if (!t) { va = Math.floor(va / PMD_SIZE) * PMD_SIZE + PMD_SIZE - 4096; continue; }
      const fl = t.flags[pteIndex(va)]!;
      // pte_present is true for PROT_NONE entries too (they still map their page).
      if ((fl & (_PAGE_PRESENT | _PAGE_PROTNONE)) === 0) continue;
      // vm_normal_page: NULL for special PTEs (zero page, DAX before 6.15); a 6.15+ DAX page is a folio.
      const daxFolio = this.k.profile.daxFolios && t.pfn[pteIndex(va)]! >= this.k.pmemBase;
      if ((fl & _PAGE_SPECIAL) !== 0 && !daxFolio) continue;
      rss++;
      if (f.owner[t.pfn[pteIndex(va)]!] === OWNER_ANON) anon++;
    }
    return { Size: (v.end - v.start) / 1024, Rss: rss * 4, Anonymous: anon * 4, AnonHugePages: anonHuge * 4,
      FilePmdMapped: filePmd * 4, VmFlags: vmFlagsString(v.flags) };
  }
}

/** smaps VmFlags two-letter codes (fs/proc/task_mmu.c show_smap_vma_flags). */
export function vmFlagsString(fl: number): string {
  const codes: Array<[number, string]> = [
    [0x1, 'rd'], [0x2, 'wr'], [0x4, 'ex'], [0x8, 'sh'], [0x10, 'mr'], [0x20, 'mw'], [0x40, 'me'], [0x80, 'ms'],
    [0x100, 'gd'], [0x2000, 'lo'], [0x8000, 'sr'], [0x10000, 'rr'], [0x200000, 'nr'], [0x800000, 'sf'],
    [0x10000000, 'mm'], [0x20000000, 'hg'], [0x40000000, 'nh'],
  ];
  return codes.filter(([b]) => (fl & b) !== 0).map(([, c]) => c).join(' ');
}
