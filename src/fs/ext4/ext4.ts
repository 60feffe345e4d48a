/**
 * An ext4-like block filesystem on a simulated block device, page-cache mode (fs/ext4, v6.1):
 * files are extent maps (ExtentMap), data blocks come from the allocator (BlockAllocator) with
 * delayed allocation at writeback, metadata changes go through the journal (Journal).
 *
 * vm_ops: ext4_file_vm_ops = filemap_fault, filemap_map_pages, ext4_page_mkwrite. Since ext4
 * files do dirty accounting and have ->page_mkwrite, shared writable mappings are write-notify:
 * read faults map read-only and the first store takes a write-protect fault (oracle rows
 * rw-map-then-write / after-fsync-rw-write).
 */
import { downRead, upRead } from '../../lib/rwsem.ts';
import { EOPNOTSUPP, ENOSPC, EIO } from '../../lib/errno.ts';
import type { Kernel } from '../../kernel/kernel.ts';
import type { FileSystem, Inode, File } from '../fs.ts';
import type { VmOperations, Vma } from '../../mm/mm.ts';
import type { DataDevice } from '../../hw/blockdev.ts';
import type { PmemDevice } from '../../hw/pmem.ts';
import type { VmFault } from '../../mm/mm.ts';
import { FAULT_FLAG_WRITE, VM_SHARED, VM_HUGEPAGE, VM_FAULT_NEEDDSYNC } from '../../mm/constants.ts';
import { daxIomapPteFault, daxIomapPmdFault, daxFinishSyncFault, type DaxFs, type DaxIomap } from '../../dax/fault.ts';
import { ext4DaxVmOps } from './dax-vm-ops.ts';
import { daxWritebackMappingRange } from '../../dax/writeback.ts';
import { daxIomapRead, daxIomapWrite } from '../../dax/rw.ts';
import { iomapDioRw, ENOTBLK, type DioFs, type DioIomap, type DioTarget } from '../iomap-dio.ts';
import { ExtentMap, EXT_UNWRITTEN_MAX_LEN, iomapFromLookup } from './extents.ts';
import { BlockAllocator, MB_GROUP_BLOCKS, type Placement, type BlockRun } from './balloc.ts';
import { Journal, DEFAULT_COMMIT_INTERVAL_NS } from './journal.ts';
import {
  MAP_SYNC, VM_SYNC, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE,
  FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_INSERT_RANGE,
} from '../../mm/constants.ts';
import { ext4CollapseRange, ext4InsertRange } from './shift.ts';
import { ext4BlockZeroRange, ext4ZeroPartialBlocks } from './zero-partial.ts';
import { filemapFault, filemapMapPages, filemapPageMkwrite } from '../../mm/filemap.ts';
import { folioReadDone } from '../../mm/pagemap.ts';
import { PG_dirty, PG_writeback, PG_locked, PG_uptodate } from '../../hw/frames.ts';
import { folioMkclean, unmapMappingPages } from '../../mm/rmap.ts';
import { COST } from '../../lib/cost-category.ts';

export interface Ext4Inode {
  extents: ExtentMap;
  /** Page indexes holding a delayed-allocation reservation (ext4_da_reserve_space). */
  delalloc: Set<number>;
  /** Inode preallocations (struct ext4_prealloc_space), placement 'mballoc' only. */
  pas: Prealloc[];
}

/**
 * An inode preallocation: blocks mballoc allocated for the logical window [lblk, lblk+len) at
 * [pblk, pblk+len) beyond what the request needed; a later request for a logical block inside it
 * takes the block at the same offset (ext4_mb_use_inode_pa). `used` marks the ones taken.
 */
interface Prealloc { lblk: number; pblk: number; len: number; used: Uint8Array; free: number }

/** Requests whose file end is at most this many blocks are "small" (s_mb_stream_request): no inode preallocation. */
const MB_STREAM_REQUEST_BLOCKS = 16;

/** First data block of a fresh ext4 (superblock, group descriptors, bitmaps, inode tables, journal). */
export const EXT4_FIRST_DATA_BLOCK = 1234;

export class Ext4 implements FileSystem, DaxFs, DioFs {
  readonly typeName = 'ext4' as const;
  readonly mmapSupportedFlags = MAP_SYNC;
  readonly dev: DataDevice;
  /** The pmem device when mounted with -o dax (S_DAX on every regular file). */
  readonly pmem: PmemDevice | null;
  readonly daxMount: boolean;
  readonly alloc: BlockAllocator;
  readonly journal: Journal;
  /**
   * What journal recovery would find after a crash: for each inode, its block mapping and size as
   * of the last committed transaction, and the committed directory entries (crash model, issue 5).
   */
  readonly committed = new Map<number, { extents: ExtentMap; sizeBytes: number }>();
  readonly committedNames = new Map<string, number>();
  private readonly runningNames = new Map<string, number | null>();

  /** Delayed-allocation reservations over all inodes (s_dirtyclusters_counter). */
  reservedBlocks = 0;
  readonly k: Kernel;
  private readonly ops: VmOperations;

  private readonly daxOps: VmOperations;

  constructor(k: Kernel, dev: DataDevice, placement: Placement, pmemForDax: PmemDevice | null) {
    this.k = k;
    this.dev = dev;
    this.pmem = pmemForDax;
    this.daxMount = pmemForDax !== null;
    this.alloc = new BlockAllocator({
      totalBlocks: dev.totalBlocks,
      firstDataBlock: Math.min(EXT4_FIRST_DATA_BLOCK, dev.totalBlocks - 1),
      placement,
    });
    this.journal = new Journal({
      commitIntervalNs: DEFAULT_COMMIT_INTERVAL_NS,
      costs: { commitBaseNs: k.costs.journalCommitBaseNs, commitPerBlockNs: k.costs.journalCommitPerBlockNs },
    });
    this.ops = {
      name: 'ext4_file_vm_ops',
      fault: (vmf) => filemapFault(k, vmf),
      mapPages: (vmf, s, e) => filemapMapPages(k, vmf, s, e),
      pageMkwrite: (vmf) => filemapPageMkwrite(k, vmf),
      rfcFaultAround: true,
      canWriteback: true,
    };
    // Blocks freed in a transaction become allocatable when it commits (ext4_free_data_in_buddy).
    this.journal.onCommit(() => { this.alloc.releasePending(); });
    this.journal.onCommit((_tid, changes) => {
      for (const c of changes) {
        const inode = k.mappingOf(c.ino)?.host;
        if (!inode || !inode.fsPrivate) continue;
        this.committed.set(c.ino, { extents: this.ei(inode).extents.clone(), sizeBytes: inode.sizeBytes });
      }
      for (const [name, ino] of this.runningNames) {
        if (ino === null) this.committedNames.delete(name); else this.committedNames.set(name, ino);
      }
      this.runningNames.clear();
    });
    this.daxOps = ext4DaxVmOps(k, this);
  }

  /**
   * ext4_dax_huge_fault (fs/ext4/file.c v6.1): write faults (FAULT_FLAG_WRITE on a shared VMA)
   * run inside a journal handle; a NEEDDSYNC result is completed by dax_finish_sync_fault after
   * the handle is stopped, and its result (NOPAGE, no MAJOR) is what the core sees.
   */
  daxHugeFault(vmf: VmFault, order: number): number {
    // filemap_invalidate_lock_shared (i_mmap_sem before 5.15) over the whole fault, so a fault
    // waits for a punch or zero range in flight and they wait for it (concurrent runs only).
    const k = this.k, task = k.current, lock = vmf.vma!.file!.inode.mapping.invalidateLock;
    downRead(k, task, lock);
    const r = this.daxHugeFaultLocked(vmf, order);
    upRead(k, task, lock);
    return r;
  }

  /** ext4_dax_huge_fault's body under invalidate_lock (see daxHugeFault). */
  private daxHugeFaultLocked(vmf: VmFault, order: number): number {
    const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (vmf.vma!.flags & VM_SHARED) !== 0;
    if (write) {
      this.journal.startHandle();
      this.k.charge(this.k.costs.daxWriteFaultOverheadNs, COST.writeFaultFs);
    }
    let r: number;
    try {
      r = order === 0 ? daxIomapPteFault(this.k, vmf, this) : daxIomapPmdFault(this.k, vmf, this);
    } finally {
      if (write) this.journal.stopHandle();
    }
    if (r & VM_FAULT_NEEDDSYNC) r = daxFinishSyncFault(this.k, vmf, this, order);
    return r;
  }

  daxRead(inode: Inode, pos: number, len: number, out: Uint8Array | null): number {
    return daxIomapRead(this.k, this, inode, pos, len, out);
  }

  /** ext4_dax_write_iter (v6.1): dax_iomap_rw inside a journal handle, then the i_size update. */
  daxWrite(inode: Inode, pos: number, len: number, src: Uint8Array | number): number {
    this.journal.startHandle();
    try {
      const n = daxIomapWrite(this.k, this, this.pmem!, inode, pos, len, src);
      if (n > 0 && pos + n > inode.sizeBytes) {
        inode.sizeBytes = pos + n;
        this.journal.recordMetadata(inode.ino, 'size', true, 1);
      }
      return n;
    } finally {
      this.journal.stopHandle();
    }
  }

  /**
   * ext4_dio_read_iter / ext4_dio_write_iter (fs/ext4/file.c v6.1, v6.18) for a page-cache file
   * opened with O_DIRECT: ext4_should_use_dio holds for plain files (ext4_dio_alignment 1: no
   * encryption, verity, data journalling or inline data), so iomap_dio_rw runs and a misaligned
   * request is its -EINVAL, not a buffered fallback. A write runs inside a journal handle; an
   * extending write that failed or came up short frees the blocks it allocated past i_size
   * (ext4_truncate_failed_write). -ENOTBLK goes back to the VFS, which writes buffered.
   */
  directIO(file: File, pos: number, len: number, write: boolean, t: DioTarget): number {
    if (!write) return iomapDioRw(this.k, this, file, pos, len, false, t);
    const inode = file.inode;
    const extend = pos + len > inode.sizeBytes;
    this.journal.startHandle();
    let r: number;
    try {
      r = iomapDioRw(this.k, this, file, pos, len, true, t);
    } finally {
      this.journal.stopHandle();
    }
    if (extend && r !== -ENOTBLK && r < len) this.setSize(inode, inode.sizeBytes);
    return r;
  }

  /**
   * ext4_iomap_begin with IOMAP_DIRECT (fs/ext4/inode.c v6.1, v6.18): reads get the extent as it
   * is; a write over a hole allocates first (ext4_iomap_alloc, before iomap checks alignment, so a
   * misaligned write that fails with EINVAL has allocated: the 6.18 host, st_blocks +16), as
   * unwritten blocks inside i_size (EXT4_GET_BLOCKS_IO_CREATE_EXT, converted at end_io) and written
   * ones past it (EXT4_GET_BLOCKS_CREATE); IOMAP_F_NEW either way.
   */
  dioIomapBegin(inode: Inode, index: number, lenPages: number, write: boolean, out: DioIomap): number {
    const ei = this.ei(inode);
    const m = ei.extents.lookup(index);
    iomapFromLookup(m, lenPages, out);
    if (!write || m.kind !== 'hole') return 0;
    const runs = this.allocFor(inode, index, out.lenBlocks);
    if (runs.length === 0) return -ENOSPC;
    const kind = index * 4096 < inode.sizeBytes ? 'unwritten' : 'written';
    let l = index;
    for (const r of runs) { ei.extents.insert(l, r.pblk, r.lenBlocks, kind); l += r.lenBlocks; }
    this.journal.recordMetadata(inode.ino, 'extent', true, 1);
    this.journal.recordMetadata(inode.ino, 'alloc', true, runs.length);
    this.k.charge(this.k.costs.blockAllocNs, COST.blockAlloc);
    out.pblk = runs[0]!.pblk;
    out.lenBlocks = runs[0]!.lenBlocks;
    out.type = kind === 'written' ? 'mapped' : 'unwritten';
    out.isNew = true;
    return 0;
  }

  /**
   * ext4_dio_write_end_io (fs/ext4/file.c v6.1, v6.18): the unwritten blocks the write covered
   * become written (ext4_convert_unwritten_extents), and i_size moves to its end.
   */
  dioWriteEnd(inode: Inode, pos: number, bytes: number): void {
    if (bytes <= 0) return;
    const ei = this.ei(inode);
    const last = Math.ceil((pos + bytes) / 4096);
    for (let i = Math.floor(pos / 4096); i < last;) {
      const m = ei.extents.lookup(i);
      const n = Math.min(m.lenBlocks, last - i);
      if (m.kind === 'unwritten') {
        ei.extents.convertToWritten(i, n);
        this.journal.recordMetadata(inode.ino, 'extent', true, 1);
      }
      i += n;
    }
    if (pos + bytes > inode.sizeBytes) {
      inode.sizeBytes = pos + bytes;
      this.journal.recordMetadata(inode.ino, 'size', true, 1);
    }
  }

  /**
   * filemap_write_and_wait_range (mm/filemap.c v6.1) over file pages [first, last]: ->writepages,
   * which for a DAX inode is ext4_dax_writepages -> dax_writeback_mapping_range, then the wait
   * (kiocb_write_and_wait, fsync, collapse/insert range).
   */
  writeAndWait(inode: Inode, first: number, last: number): void {
    if (inode.dax) daxWritebackMappingRange(this.k, inode.mapping, first, last);
    else this.writeback(inode, first, last, true);
  }

  /** The inode's current extents (for the crash explorer's fsync bookkeeping). */
  extentsOf(inode: Inode): ReturnType<ExtentMap['extents']> {
    return this.ei(inode).extents.extents();
  }

  /** ext4_create: the new inode and its directory entry join the running transaction. */
  created(inode: Inode, name: string): void {
    this.journal.startHandle();
    this.ei(inode);
    this.journal.recordMetadata(inode.ino, 'inode', true, 1);
    this.journal.stopHandle();
    this.runningNames.set(name, inode.ino);
  }

  /** ext4_unlink: the directory entry's removal joins the running transaction. */
  unlinked(inode: Inode, name: string): void {
    this.journal.startHandle();
    this.journal.recordMetadata(inode.ino, 'inode', true, 1);
    this.journal.stopHandle();
    this.runningNames.set(name, null);
  }

  /** PFN of block `pblk` on the DAX device (dax_direct_access). */
  blockPfn(pblk: number): number {
    return this.pmem!.pfnBase + pblk;
  }

  /**
   * ext4_iomap_begin for DAX (fs/ext4/inode.c v6.1): reads report the extent as it is; writes of
   * a page inside i_size that is already written are MAPPED with no journal work; otherwise blocks
   * are allocated (or unwritten ones converted) with EXT4_GET_BLOCKS_CREATE_ZERO: zeroed on the
   * device and recorded as written in the running transaction, IOMAP_F_NEW. IOMAP_F_DIRTY when
   * the inode's datasync transaction is not committed or the range reaches past i_size.
   */
  iomapBegin(inode: Inode, index: number, lenPages: number, write: boolean, out: DaxIomap): number {
    const ei = this.ei(inode);
    const m = ei.extents.lookup(index);
    iomapFromLookup(m, lenPages, out);
    if (write && m.kind !== 'written') {
      if (m.kind === 'unwritten') {
        const n = out.lenBlocks;
        ei.extents.convertToWritten(index, n);
        this.pmem!.zeroBlocks(m.pblk, n);
        this.journal.recordMetadata(inode.ino, 'extent', true, 1);
      } else {
        const want = Math.min(lenPages, m.lenBlocks);
        const runs = this.allocFor(inode, index, want);
        if (runs.length === 0) return -ENOSPC;
        let l = index;
        for (const r of runs) {
          ei.extents.insert(l, r.pblk, r.lenBlocks, 'written');
          this.pmem!.zeroBlocks(r.pblk, r.lenBlocks);
          l += r.lenBlocks;
        }
        this.journal.recordMetadata(inode.ino, 'extent', true, 1);
        this.journal.recordMetadata(inode.ino, 'alloc', true, runs.length);
        out.pblk = runs[0]!.pblk;
        out.lenBlocks = runs[0]!.lenBlocks;
      }
      out.type = 'mapped';
      out.isNew = true;
      // The allocation runs inside a journal handle: a commit that starts meanwhile must wait for
      // it to stop (jbd2 waits for t_updates to drain).
      this.handleFromNs = this.k.now();
      this.k.charge(this.k.costs.blockAllocNs, COST.blockAlloc);
      this.k.charge(out.lenBlocks * 4096 * this.k.costs.pmemWriteNsPerByte, COST.zeroing);
      this.handleUntilNs = this.k.now();
    }
    out.dirty = this.journal.needsCommitForDatasync(inode.ino) || (index + out.lenBlocks) * 4096 > inode.sizeBytes;
    return 0;
  }

  /**
   * Blocks for logical [lblk, lblk+lenBlocks) of `inode` (ext4_mb_new_blocks as ext4_ext_map_blocks
   * calls it, v6.1), as runs in logical order (fewer blocks than asked only on ENOSPC, or when a
   * preallocation ends first). Placements 'aligned' and 'unaligned' ask the allocator near the
   * goal (ext4_ext_find_goal). Placement 'mballoc' first uses an inode preallocation covering
   * lblk; else normalises the request (mballocWindow), allocates the whole window, gives the
   * request its part and keeps the rest as preallocations.
   */
  private allocFor(inode: Inode, lblk: number, lenBlocks: number, exact = false): BlockRun[] {
    const ei = this.ei(inode);
    if (this.alloc.placement !== 'mballoc') return this.allocRuns(ei.extents.goalFor(lblk), lenBlocks, lblk);
    for (let i = 0; i < ei.pas.length; i++) {
      const pa = ei.pas[i]!;
      if (lblk < pa.lblk || lblk >= pa.lblk + pa.len) continue;
      const off = lblk - pa.lblk;
      let n = 0;
      while (n < lenBlocks && off + n < pa.len && pa.used[off + n] === 0) pa.used[off + n++] = 1;
      if (n === 0) break;
      pa.free -= n;
      if (pa.free === 0) ei.pas.splice(i, 1);
      return [{ pblk: pa.pblk + off, lenBlocks: n }];
    }
    const w = this.mballocWindow(inode, lblk, lenBlocks, exact);
    const group = Math.floor(Math.max(0, w.goal >= 0 ? w.goal : this.alloc.firstDataBlock) / MB_GROUP_BLOCKS);
    const runs = this.withRetry(() => this.alloc.allocMballoc(w.tryGoal, group, w.len), w.len);
    const mine: BlockRun[] = [];
    let l = w.lblk;
    for (const r of runs) {
      // The part of this run inside [lblk, lblk+lenBlocks) is the request's; the rest is preallocated.
      const s = Math.max(l, lblk), e = Math.min(l + r.lenBlocks, lblk + lenBlocks);
      if (e > s) mine.push({ pblk: r.pblk + (s - l), lenBlocks: e - s });
      if (r.lenBlocks > Math.max(0, e - s)) {
        const used = new Uint8Array(r.lenBlocks);
        for (let j = Math.max(s, l); j < e; j++) used[j - l] = 1;
        ei.pas.push({ lblk: l, pblk: r.pblk, len: r.lenBlocks, used, free: r.lenBlocks - Math.max(0, e - s) });
      }
      l += r.lenBlocks;
    }
    return mine;
  }

  /**
   * ext4_mb_normalize_request (mballoc.c v6.1) for placement 'mballoc': the logical window to
   * allocate for [lblk, lblk+lenBlocks). The file's predicted size (the request's end or i_size,
   * whichever is larger) picks the window: up to 1 MiB the next power of two from offset 0; up
   * to 4 MiB a 2 MiB-aligned 2 MiB; up to 8 MiB a 4 MiB-aligned 4 MiB; beyond, an 8 MiB-aligned
   * 8 MiB whatever the request's length (with 4 KiB blocks NRL_CHECK_SIZE's "max <= chunk" test
   * always holds there). The window is trimmed so it covers neither the mapped blocks around the
   * request nor other preallocations; a request reaching past it gets the window's part only
   * ("fe_len can be relaxed"), and the caller asks again for the rest. A
   * window that continues the extent on its left (or ends where the one on its right begins)
   * names that physical spot as the goal to try first (EXT4_MB_HINT_TRY_GOAL). Small files
   * (s_mb_stream_request) are not normalised (their locality-group preallocation is not
   * modelled), nor is a request made with `exact` (EXT4_GET_BLOCKS_NO_NORMALIZE: a fallocate of
   * at most EXT_UNWRITTEN_MAX_LEN blocks, ext4_alloc_file_blocks).
   */
  private mballocWindow(
    inode: Inode, lblk: number, lenBlocks: number, exact: boolean,
  ): { lblk: number; len: number; tryGoal: number; goal: number } {
    const ei = this.ei(inode);
    const nb = ei.extents.neighbours(lblk, lenBlocks);
    const goal = ei.extents.goalFor(lblk);
    const endBytes = Math.max((lblk + lenBlocks) * 4096, inode.sizeBytes);
    let start = lblk, size = lenBlocks;
    if (exact) return { lblk, len: lenBlocks, tryGoal: -1, goal };
    if (endBytes > MB_STREAM_REQUEST_BLOCKS * 4096) {
      const KiB = 1024, MiB = 1024 * KiB;
      let startBytes = 0, sizeBytes: number;
      if (endBytes <= MiB) { sizeBytes = 16 * KiB; while (sizeBytes < endBytes) sizeBytes *= 2; }
      else if (endBytes <= 4 * MiB) { startBytes = Math.floor(lblk * 4096 / (2 * MiB)) * 2 * MiB; sizeBytes = 2 * MiB; }
      else if (endBytes <= 8 * MiB) { startBytes = Math.floor(lblk * 4096 / (4 * MiB)) * 4 * MiB; sizeBytes = 4 * MiB; }
      else { startBytes = Math.floor(lblk * 4096 / (8 * MiB)) * 8 * MiB; sizeBytes = 8 * MiB; }
      start = startBytes / 4096;
      let end = start + sizeBytes / 4096;
      if (nb.lleft >= 0 && start <= nb.lleft) start = nb.lleft + 1;
      if (nb.lright >= 0 && end > nb.lright) end = nb.lright;
      for (const pa of ei.pas) {
        if (pa.lblk + pa.len <= lblk) start = Math.max(start, pa.lblk + pa.len);
        else if (pa.lblk >= lblk + 1) end = Math.min(end, pa.lblk);
      }
      start = Math.min(start, lblk);
      size = Math.max(end, lblk + 1) - start;
    }
    let tryGoal = -1;
    if (nb.lright >= 0 && nb.lright === start + size && nb.pright >= size) tryGoal = nb.pright - size;
    if (nb.lleft >= 0 && nb.lleft + 1 === start) tryGoal = nb.pleft + 1;
    return { lblk: start, len: size, tryGoal, goal };
  }

  /**
   * Give back the unused blocks of every preallocation of `inode` at once
   * (ext4_discard_preallocations, mballoc.c v6.1: never in the file, so not journalled).
   */
  discardPreallocations(inode: Inode): void {
    const ei = this.ei(inode);
    for (const pa of ei.pas) {
      for (let j = 0; j < pa.len;) {
        if (pa.used[j] === 1) { j++; continue; }
        let n = 1;
        while (j + n < pa.len && pa.used[j + n] === 0) n++;
        this.alloc.free(pa.pblk + j, n);
        j += n;
      }
    }
    ei.pas.length = 0;
  }

  /**
   * Allocate `lenBlocks` near `goal` (BlockAllocator.alloc). When free space runs short while
   * freed blocks wait for a commit, commit now and take them (ext4_should_retry_alloc ->
   * jbd2_journal_force_commit_nested, v6.1; ext4 stops its handle, forces the commit and retries
   * the operation: here the open handles are set aside around the commit).
   */
  private allocRuns(goal: number, lenBlocks: number, lblk: number): BlockRun[] {
    return this.withRetry(() => this.alloc.alloc(goal, lenBlocks, lblk), lenBlocks);
  }

  /**
   * Run an allocation; when it comes back short of `lenBlocks` while freed blocks wait for a
   * commit, give those back (commit now) and run it again for the rest.
   */
  private withRetry(allocate: () => BlockRun[], lenBlocks: number): BlockRun[] {
    const runs = allocate();
    let got = 0;
    for (const r of runs) got += r.lenBlocks;
    if (got === lenBlocks || this.alloc.pendingBlocks === 0) return runs;
    for (const r of runs) this.alloc.free(r.pblk, r.lenBlocks);
    const open = this.journal.handlesOpen;
    for (let i = 0; i < open; i++) this.journal.stopHandle();
    const c = this.journal.commit(this.k.now());
    if (c) {
      this.traceCommit(c.tid, true, c.durationNs);
      this.k.charge(c.durationNs, COST.journalCommit);
      this.k.events.journalCommits++;
    }
    for (let i = 0; i < open; i++) this.journal.startHandle();
    return allocate();
  }

  /** vfs_fsync_range(datasync) for dax_finish_sync_fault: flush dirty entries of the range, commit if needed. */
  fsyncRange(file: File, startIndex: number, endIndex: number): number {
    daxWritebackMappingRange(this.k, file.inode.mapping, startIndex, endIndex);
    this.commitIfNeeded(file.inode, true);
    return 0;
  }

  private commitIfNeeded(inode: Inode, datasync: boolean): void {
    const need = datasync ? this.journal.needsCommitForDatasync(inode.ino) : this.journal.needsCommitForSync(inode.ino);
    if (!need) return;
    // jbd2 runs one commit at a time: a request while another commit is in flight waits for it.
    const k = this.k;
    if (this.journalBusyUntilNs > k.now()) k.waitUntil(k.current, this.journalBusyUntilNs, COST.journalCommit);
    if (this.handleFromNs <= k.now() && k.now() < this.handleUntilNs) {
      k.waitUntil(k.current, this.handleUntilNs, COST.lockWait);
    }
    const r = this.journal.commit(k.now());
    if (r) {
      this.traceCommit(r.tid, true, r.durationNs);
      k.charge(r.durationNs, COST.journalCommit);
      this.journalBusyUntilNs = k.now();
      k.events.journalCommits++;
    }
  }

  /**
   * jbd2's commit tracepoints (fs/jbd2/commit.c jbd2_journal_commit_transaction, v6.1): start,
   * locking, flushing and logging when the commit begins, end when its duration has passed.
   */
  private traceCommit(tid: number, sync: boolean, durationNs: number): void {
    const tp = this.k.tracer;
    if (tp === null) return;
    const t0 = this.k.now();
    for (const phase of ['start', 'locking', 'flushing', 'logging'] as const) tp.jbd2Commit(this, phase, tid, sync, t0);
    tp.jbd2Commit(this, 'end', tid, sync, t0 + durationNs);
  }

  /** The last allocation's journal handle, open over [handleFromNs, handleUntilNs) in simulated time. */
  handleFromNs = 0;
  handleUntilNs = 0;

  /** When the commit in flight (if any) completes, in simulated ns. */
  journalBusyUntilNs = 0;

  ei(inode: Inode): Ext4Inode {
    if (!inode.fsPrivate) {
      inode.fsPrivate = { extents: new ExtentMap(), delalloc: new Set<number>(), pas: [] } satisfies Ext4Inode;
    }
    return inode.fsPrivate as Ext4Inode;
  }

  vmOps(inode: Inode): VmOperations { return inode.dax ? this.daxOps : this.ops; }

  /** ext4_file_mmap (v6.1): VM_SYNC only on DAX files of a synchronous DAX device. */
  mmap(file: File, vma: Vma): number {
    if ((vma.flags & VM_SYNC) !== 0 && (!file.inode.dax || !this.k.profile.mapSync)) return -EOPNOTSUPP;
    // DAX VMAs may always use huge pages (VM_HUGEPAGE, hugepage_vma_check).
    if (file.inode.dax) vma.flags |= VM_HUGEPAGE;
    return 0;
  }

  thpUnmappedArea(inode: Inode): boolean {
    return inode.dax ? this.k.profile.thpAlignDax : this.k.profile.thpAlignPageCacheFiles;
  }

  /**
   * Folio order for a buffered write (fgf_set_order + __filemap_get_folio, 6.x with ext4 large
   * folios): log2 of the write length in pages, lowered to the index's alignment, at most 9.
   */
  writeFolioOrder(_inode: Inode, index: number, lenBytes: number): number {
    if (!this.k.profile.ext4LargeFolios) return 0;
    let order = Math.max(0, Math.floor(Math.log2(lenBytes)) - 12);
    if (order > 9) order = 9;
    while (order > 0 && index % (1 << order) !== 0) order--;
    return order;
  }

  /**
   * ext4_mpage_readpages (fs/ext4/readpage.c v6.1): holes and unwritten extents are zero-filled
   * and uptodate at once; mapped blocks are read, one request per physically contiguous run.
   */
  readFolios(inode: Inode, heads: readonly number[]): void {
    const k = this.k;
    const f = k.frames;
    const ext = this.ei(inode).extents;
    let runHeads: number[] = [];
    let runBlocks: number[] = [];
    const flush = () => {
      if (runHeads.length === 0) return;
      const hs = runHeads, bs = runBlocks;
      runHeads = []; runBlocks = [];
      const done = this.dev.submit(false, bs.length, k.now());
      k.vmstat.pgpgin += bs.length * 4;
      k.schedule(done, () => {
        let bi = 0;
        for (const h of hs) {
          const n = 1 << f.order[h]!;
          for (let j = 0; j < n; j++) {
            this.dev.readBlockTo(bs[bi++]!, f.contents, h + j);
          }
          folioReadDone(k, h, true);
        }
      });
    };
    for (const h of heads) {
      const idx = f.index[h]!;
      const n = 1 << f.order[h]!;
      const m = ext.lookup(idx);
      if (m.kind !== 'written' || m.lenBlocks < n) {
        // Hole or unwritten (or a folio spanning mixed blocks: treated per page as zero): no I/O.
        flush();
        if (m.kind === 'written') {
          for (let j = 0; j < n; j++) {
            const mj = ext.lookup(idx + j);
            if (mj.kind === 'written') this.dev.readBlockTo(mj.pblk, f.contents, h + j);
            else f.fillFrame(h + j, 0);
          }
        } else for (let j = 0; j < n; j++) f.fillFrame(h + j, 0);
        f.flags[h] = (f.flags[h]! | PG_uptodate) & ~PG_locked;
        continue;
      }
      const last = runBlocks.length ? runBlocks[runBlocks.length - 1]! : -2;
      if (last + 1 !== m.pblk) flush();
      runHeads.push(h);
      for (let j = 0; j < n; j++) runBlocks.push(m.pblk + j);
    }
    flush();
  }

  /**
   * ext4_writepages (v6.1, delayed allocation): for each dirty folio in range: write-protect its
   * PTEs and clear PG_dirty (folio_clear_dirty_for_io -> folio_mkclean), allocate blocks for
   * delalloc pages (journalled), write the data, and end writeback at I/O completion. With
   * `sync` the caller waits for every write. Returns pages written.
   */
  writeback(inode: Inode, startIndex: number, endIndex: number, sync: boolean): number {
    const k = this.k;
    const f = k.frames;
    const ei = this.ei(inode);
    const mapping = inode.mapping;
    const heads: number[] = [];
    mapping.pages.forEach(startIndex, endIndex, (_i, e) => { heads.push(e / 2 - 1); }, 0);
    let pages = 0;
    let lastDone = k.now();
    let handle = false;
    for (const h of heads) {
      if ((f.flags[h]! & PG_dirty) === 0) continue;
      folioMkclean(k, h);
      f.flags[h] = (f.flags[h]! & ~PG_dirty) | PG_writeback;
      mapping.pages.clearMark(f.index[h]!, 0);
      const n = 1 << f.order[h]!;
      const blocks: number[] = [];
      for (let j = 0; j < n; j++) {
        const idx = f.index[h]! + j;
        let m = ei.extents.lookup(idx);
        // A hole page without a delayed-allocation reservation has no dirty buffer: the folio is
        // dirty for its other pages (written in part, or kept whole by a punch whose
        // block_invalidate_folio discarded this page's buffer). ext4_writepages
        // (mpage_prepare_extent_to_map) maps and writes only dirty or delayed buffers, so no
        // block is allocated for it. Fuzz seed 216 of fuzz-ext4-s1-n300.linux-6.18.
        if (m.kind === 'hole' && !ei.delalloc.has(idx)) continue;
        if (m.kind === 'hole') {
          if (!handle) { this.journal.startHandle(); handle = true; }
          const runs = this.allocFor(inode, idx, 1);
          const pb = runs.length > 0 ? runs[0]!.pblk : -1;
          if (pb < 0) { mapping.wbErr = -ENOSPC; continue; }
          ei.extents.insert(idx, pb, 1, 'written');
          if (ei.delalloc.delete(idx)) this.reservedBlocks--;
          this.journal.recordMetadata(inode.ino, 'extent', true, 1);
          this.journal.recordMetadata(inode.ino, 'alloc', true, 1);
          m = ei.extents.lookup(idx);
        } else if (m.kind === 'unwritten') {
          if (!handle) { this.journal.startHandle(); handle = true; }
          ei.extents.convertToWritten(idx, 1);
          this.journal.recordMetadata(inode.ino, 'extent', true, 1);
          m = ei.extents.lookup(idx);
        }
        this.dev.writeBlockFrom(m.pblk, f.contents, h + j);
        blocks.push(m.pblk);
      }
      if (blocks.length === 0) { f.flags[h] = f.flags[h]! & ~PG_writeback; continue; }
      const done = this.dev.submit(true, blocks.length, k.now());
      k.vmstat.pgpgout += blocks.length * 4;
      lastDone = Math.max(lastDone, done);
      k.schedule(done, () => { f.flags[h] = f.flags[h]! & ~PG_writeback; });
      pages += n;
    }
    if (handle) this.journal.stopHandle();
    k.events.writebackPages += pages;
    if (sync && pages > 0) k.sleepUntil(() => k.now() >= lastDone, 'writeback completion');
    return pages;
  }

  /**
   * ext4_break_layouts -> dax_layout_busy_page (fs/ext4/inode.c, fs/dax.c v6.1), which
   * ext4_setattr, ext4_punch_hole and ext4_zero_range call before they truncate the page cache:
   * a DAX inode is unmapped from every mapping over the whole
   * file (unmap_mapping_pages from 0 to the end, even_cows 0), not just over the range it
   * changes: every PTE and PMD of the file refaults afterwards. Measured on the 6.1 guest (punching
   * one page of a PMD-mapped 8 MiB file refaults all four PMDs; an extending ftruncate drops Rss
   * to 0). Page-cache inodes have no layouts to break.
   */
  breakLayouts(inode: Inode): void {
    if (inode.dax && inode.mapping.iMmap.size > 0) unmapMappingPages(this.k, inode.mapping, 0, Infinity, false);
  }

  /**
   * The write-back ext4_punch_hole and ext4_zero_range do to 6.12 (fs/ext4/inode.c,
   * fs/ext4/extents.c; knob ext4PunchWriteback): when the mapping has dirty folios, the range is
   * written and waited on (filemap_write_and_wait_range) before truncate_pagecache_range. By 6.18
   * both skip it in data=ordered mode, so a dirty large folio over the range's edge cannot be
   * released and stays whole (releaseFolio). Measured on the 6.18 host: test/oracle-runs/
   * punch-large-folio.linux-6.18.ext4 (punch) and fuzz seed 37 of fuzz-ext4-s1-n300 (zero range:
   * mincore keeps the whole folio). The older kernels' write-back is from their source; no
   * recorded run there tells it apart (ext4 has no large folios before 6.16).
   * DAX inodes are left out: their dirty entries' flush on punch is not modelled yet.
   */
  fallocateWriteback(inode: Inode, mode: number, offsetBytes: number, lengthBytes: number): void {
    if (inode.dax || lengthBytes <= 0 || !this.k.profile.ext4PunchWriteback) return;
    if ((mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) === 0) return;
    if (!inode.mapping.pages.marked(0)) return; // mapping_tagged(PAGECACHE_TAG_DIRTY)
    this.writeAndWait(inode, Math.floor(offsetBytes / 4096), Math.floor((offsetBytes + lengthBytes - 1) / 4096));
  }

  /**
   * ext4_release_folio -> try_to_free_buffers (fs/ext4/inode.c, fs/buffer.c, 6.18): the buffer
   * heads a buffered write attached stay while any is dirty or locked (buffer_busy), and a folio
   * under writeback is never released, so a dirty large folio cannot be split. Seen on the 6.18
   * host: truncating a just-written 41060-byte file to 12288 keeps its 8-page folio whole
   * (mincore 1x8, test/oracle-runs/truncate-sigbus.linux-6.18.ext4); fsynced folios split (phprobe).
   */
  releaseFolio(_inode: Inode, head: number): boolean {
    return (this.k.frames.flags[head]! & (PG_dirty | PG_writeback)) === 0;
  }

  /**
   * ext4_setattr size change after truncate_pagecache (v6.1; breakLayouts came first): free blocks
   * past the new end.
   */
  setSize(inode: Inode, newSizeBytes: number, oldSizeBytes = newSizeBytes): number {
    const ei = this.ei(inode);
    const first = Math.ceil(newSizeBytes / 4096);
    this.journal.startHandle();
    // ext4_setattr calls ext4_truncate only when the size does not grow ("even if i_size didn't
    // change, to truncate possible preallocated blocks"): an extending ftruncate keeps the blocks a
    // KEEP_SIZE fallocate left past EOF (fuzz seeds 241 and 298 on every DAX guest: st_blocks).
    if (newSizeBytes <= oldSizeBytes) {
      this.discardPreallocations(inode);
      for (const r of ei.extents.remove(first, Infinity)) this.alloc.freeAfterCommit(r.pblk, r.lenBlocks);
      for (const i of [...ei.delalloc]) if (i >= first && ei.delalloc.delete(i)) this.reservedBlocks--;
    }
    // ext4_truncate -> ext4_block_truncate_page: the tail of the new last block is zeroed in the
    // file (the page cache reads an uncached block in; DAX zeroes it on the device). An extending
    // ext4_setattr does not truncate; the model has DAX zero the tail on every size change.
    if (newSizeBytes % 4096 !== 0 && (inode.dax || newSizeBytes <= oldSizeBytes)) {
      ext4BlockZeroRange(this, inode, newSizeBytes, first * 4096);
    }
    this.journal.recordMetadata(inode.ino, 'size', true, 1);
    this.journal.recordMetadata(inode.ino, 'extent', true, 1);
    this.journal.stopHandle();
    return 0;
  }

  /**
   * ext4_fallocate (v6.1): COLLAPSE_RANGE and INSERT_RANGE shift extents (shift.ts); default mode
   * allocates unwritten extents over holes (size grows unless KEEP_SIZE, done by the VFS);
   * PUNCH_HOLE frees blocks (page cache already truncated by the VFS); ZERO_RANGE (ext4_zero_range)
   * leaves the whole blocks of the range unwritten, so they read as zeros: modelled as freeing them and allocating
   * unwritten blocks in their place.
   * Blocks allocated over pages that hold a delayed-allocation reservation release it: once
   * allocated, a block is not reserved any more ("direct allocation of clusters discovered to be
   * delayed allocated": ext4_ext_map_blocks 4.20-6.9, ext4_es_insert_extent 6.10+), so st_blocks
   * counts such a page once. Measured: fuzz seed 18 on the 6.1, 6.12 and 6.18 kernels
   * (examples/repro/ext4-falloc-over-delalloc.yaml).
   */
  fallocate(inode: Inode, mode: number, offsetBytes: number, lengthBytes: number): number {
    if (mode & FALLOC_FL_COLLAPSE_RANGE) return ext4CollapseRange(this, inode, offsetBytes, lengthBytes);
    if (mode & FALLOC_FL_INSERT_RANGE) return ext4InsertRange(this, inode, offsetBytes, lengthBytes);
    const ei = this.ei(inode);
    const first = Math.floor(offsetBytes / 4096);
    const last = Math.ceil((offsetBytes + lengthBytes) / 4096) - 1;
    this.journal.startHandle();
    try {
      if (mode & FALLOC_FL_PUNCH_HOLE) {
        this.discardPreallocations(inode);
        const s = Math.ceil(offsetBytes / 4096);
        const e = Math.floor((offsetBytes + lengthBytes) / 4096);
        if (e > s) for (const r of ei.extents.remove(s, e - s)) this.alloc.freeAfterCommit(r.pblk, r.lenBlocks);
        this.dropDelalloc(inode, s, e);
        ext4ZeroPartialBlocks(this, inode, offsetBytes, lengthBytes);
        this.journal.recordMetadata(inode.ino, 'extent', true, 1);
        return 0;
      }
      if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_ZERO_RANGE)) return -EOPNOTSUPP;
      if (mode & FALLOC_FL_ZERO_RANGE) {
        const s = Math.ceil(offsetBytes / 4096);
        const e = Math.floor((offsetBytes + lengthBytes) / 4096);
        if (e > s) {
          ei.extents.convertToUnwritten(s, e - s);
          this.journal.recordMetadata(inode.ino, 'extent', true, 1);
        }
        this.dropDelalloc(inode, s, e);
      }
      const newSize = (mode & FALLOC_FL_KEEP_SIZE) !== 0 ? 0 : offsetBytes + lengthBytes;
      const r = this.allocUnwritten(inode, first, last, newSize);
      // ext4_zero_range: the edge blocks, allocated above when they were holes, are zeroed last.
      if (r === 0 && (mode & FALLOC_FL_ZERO_RANGE)) ext4ZeroPartialBlocks(this, inode, offsetBytes, lengthBytes);
      return r;
    } finally {
      this.journal.stopHandle();
    }
  }

  /**
   * Drop the delayed-allocation reservations of blocks [s, e) (ext4_es_remove_extent of delayed
   * extents): by walking the reservations when there are fewer of them than blocks, so a 1 TiB
   * punch or zero range costs what the file holds, not 2^28 steps.
   */
  private dropDelalloc(inode: Inode, s: number, e: number): void {
    const d = this.ei(inode).delalloc;
    if (e - s <= d.size) { for (let i = s; i < e; i++) if (d.delete(i)) this.reservedBlocks--; return; }
    for (const i of [...d]) if (i >= s && i < e && d.delete(i)) this.reservedBlocks--;
  }

  /**
   * ext4_alloc_file_blocks (extents.c v6.1) with EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT: unwritten
   * blocks over the holes of blocks [first, last]. 0 or -ENOSPC. Nothing is rolled back on
   * ENOSPC: the blocks allocated stay, and unless `newSizeBytes` is 0 (KEEP_SIZE) i_size has grown
   * after each allocated run to its end (at most `newSizeBytes`), as ext4_update_inode_size does.
   */
  private allocUnwritten(inode: Inode, first: number, last: number, newSizeBytes: number): number {
    const ei = this.ei(inode);
    for (let i = first; i <= last;) {
      const m = ei.extents.lookup(i);
      if (m.kind !== 'hole') { i += Math.min(m.lenBlocks, last - i + 1); continue; }
      const len = Math.min(m.lenBlocks, last - i + 1);
      const runs = this.allocFor(inode, i, len, last - first + 1 <= EXT_UNWRITTEN_MAX_LEN);
      if (runs.length === 0) return -ENOSPC;
      let l = i;
      for (const r of runs) { ei.extents.insert(l, r.pblk, r.lenBlocks, 'unwritten'); l += r.lenBlocks; }
      // Blocks allocated over delayed-allocation pages take their reservation's place.
      for (let j = i; j < l; j++) if (ei.delalloc.delete(j)) this.reservedBlocks--;
      this.journal.recordMetadata(inode.ino, 'extent', true, 1);
      this.journal.recordMetadata(inode.ino, 'alloc', true, 1);
      if (newSizeBytes > 0) inode.sizeBytes = Math.max(inode.sizeBytes, Math.min(l * 4096, newSizeBytes));
      i = l;
    }
    return 0;
  }

  /**
   * ext4_sync_file (fs/ext4/fsync.c v6.1): write back and wait over the byte range
   * (file_write_and_wait_range: for DAX, dax_writeback_mapping_range of the entries in it, so an
   * msync of part of a mapping write-protects only that part), then commit the journal if the
   * inode's (data)sync tid is not yet committed; the commit time is charged to the caller.
   */
  fsync(file: File, datasync: boolean, startBytes = 0, endBytes = Infinity): number {
    const inode = file.inode;
    const first = Math.floor(startBytes / 4096), last = Math.floor(endBytes / 4096);
    this.writeAndWait(inode, first, last);
    this.commitIfNeeded(inode, datasync);
    if (inode.dax && this.k.syncHook !== null) this.k.syncHook(inode, first, last);
    const err = inode.mapping.wbErr;
    inode.mapping.wbErr = 0;
    return err < 0 ? (err === -ENOSPC ? -ENOSPC : -EIO) : 0;
  }

  /** stat st_blocks: mapped blocks, extent-tree blocks and delayed-allocation reservations, in 512-byte units. */
  stBlocks(inode: Inode): number {
    const ei = this.ei(inode);
    return (ei.extents.blocksMapped + ei.extents.treeBlocks + ei.delalloc.size) * 8;
  }

  /** ext4_da_get_block_prep (v6.1): reserve a block for a dirtied hole page; ENOSPC when none is left. */
  reserveForWrite(inode: Inode, index: number): number {
    const ei = this.ei(inode);
    if (ei.delalloc.has(index)) return 0;
    if (ei.extents.lookup(index).kind !== 'hole') return 0;
    if (this.reservedBlocks >= this.alloc.freeBlocks + this.alloc.pendingBlocks) return -ENOSPC;
    ei.delalloc.add(index);
    this.reservedBlocks++;
    return 0;
  }

  /** ext4_release_file (v6.1): the last writer gone, unused preallocated blocks go back. */
  released(inode: Inode): void {
    if (inode.fsPrivate) this.discardPreallocations(inode);
  }

  evict(inode: Inode): void {
    this.discardPreallocations(inode);
    const ei = this.ei(inode);
    for (const r of ei.extents.remove(0, Infinity)) this.alloc.freeAfterCommit(r.pblk, r.lenBlocks);
    this.reservedBlocks -= ei.delalloc.size;
    ei.delalloc.clear();
  }
}
