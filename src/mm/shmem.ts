/**
 * tmpfs (mm/shmem.c, v6.1): files live only in the page cache, pages are swap-backed and
 * allocated on first touch, including by a read fault on a hole (so a read fault on a sparse file
 * allocates a page per hole: the oracle's sparse-read row, st_blocks 0 -> full size).
 * shmem_vm_ops has ->fault (shmem_fault) and ->map_pages (filemap_map_pages) and no
 * ->page_mkwrite, and tmpfs does no dirty accounting, so shared writable mappings are not
 * write-notify and read faults install writable PTEs (reference §1.5).
 */
import type { Kernel } from '../kernel/kernel.ts';
import type { FileSystem, Inode, File } from '../fs/fs.ts';
import type { VmFault, VmOperations, Vma } from './mm.ts';
import { VM_FAULT_SIGBUS, VM_FAULT_LOCKED, VM_FAULT_OOM } from './constants.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from './constants.ts';
import { EOPNOTSUPP, ENOSPC, ENOMEM } from '../lib/errno.ts';
import { addNewFolio, findFolio, folioMarkDirty, maxIndex, removeFolio, waitFolioUnlocked } from './pagemap.ts';
import { filemapMapPages } from './filemap.ts';
import { PG_locked, PG_uptodate } from '../hw/frames.ts';
import { COST } from '../lib/cost-category.ts';
import { BlockLimit } from './shmem-limit.ts';

export class Tmpfs implements FileSystem {
  readonly typeName = 'tmpfs' as const;
  readonly mmapSupportedFlags = 0;
  readonly daxMount = false;
  /** shmem_fallocate (mm/shmem.c, 4.15 to 6.18): its first check, anything but these is EOPNOTSUPP. */
  readonly fallocateModes = FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE;
  private readonly k: Kernel;
  readonly vmOpsTable: VmOperations;
  /** max_blocks and used_blocks (src/mm/shmem-limit.ts); unlimited on the internal shm mount. */
  readonly blockLimit: BlockLimit;

  /** `maxPages`: the mount's block limit from tmpfsMaxPages, 0 for none (shm_mnt, size=0). */
  constructor(k: Kernel, maxPages = 0) {
    this.k = k;
    this.blockLimit = new BlockLimit(maxPages);
    this.vmOpsTable = {
      name: 'shmem_vm_ops',
      fault: (vmf) => shmemFault(k, vmf),
      mapPages: (vmf, s, e) => filemapMapPages(k, vmf, s, e),
      canWriteback: false,
    };
  }

  vmOps(_inode: Inode): VmOperations { return this.vmOpsTable; }
  /** shmem_file_open sets FMODE_CAN_ODIRECT from 6.6 (knob shmemODirect); reads and writes stay buffered. */
  canODirect(_inode: Inode): boolean { return this.k.profile.shmemODirect; }
  /** shmem_mmap (v6.1): nothing to refuse; VM_SYNC from legacy MAP_SHARED is accepted and unused. */
  mmap(_file: File, _vma: Vma): number { return 0; }
  /** shmem_get_unmapped_area aligns only when shmem huge pages are enabled (huge=never by default). */
  thpUnmappedArea(_inode: Inode): boolean { return false; }
  writeFolioOrder(): number { return 0; }

  /** tmpfs has no backing store: a folio created by readahead is a zeroed hole page, ready at once. */
  readFolios(_inode: Inode, heads: readonly number[]): void {
    const f = this.k.frames;
    for (const h of heads) {
      f.fillFrame(h, 0);
      f.flags[h] = (f.flags[h]! | PG_uptodate) & ~PG_locked;
    }
  }

  writeback(): number { return 0; }
  setSize(): number { return 0; }

  /**
   * shmem_fallocate (v5.10-v6.18): allocate pages for the range, not yet uptodate, and mark every
   * page of it dirty; PUNCH_HOLE frees them (done by the VFS); modes other than KEEP_SIZE and
   * PUNCH_HOLE were refused before (fallocateModes: a ZERO_RANGE drops and zeroes nothing, fuzz
   * seed 15 on every tmpfs batch, examples/repro/tmpfs-zero-range.yaml). When memory runs out part
   * way the call fails with ENOSPC and gives back what it allocated: shmem_undo_range(unfalloc)
   * frees the folios of [start, index) that are not uptodate (written pages stay), and i_size is
   * not changed.
   */
  fallocate(inode: Inode, mode: number, offsetBytes: number, lengthBytes: number): number {
    if (mode & FALLOC_FL_PUNCH_HOLE) return 0;
    if (mode & ~FALLOC_FL_KEEP_SIZE) return -EOPNOTSUPP;
    const first = Math.floor(offsetBytes / 4096);
    const last = Math.floor((offsetBytes + lengthBytes - 1) / 4096);
    // A range larger than the whole limit fails before anything is allocated.
    const lim = this.blockLimit;
    if (lim.maxPages !== 0 && last - first + 1 > lim.maxPages) return -ENOSPC;
    for (let i = first; i <= last; i++) {
      // Every folio of the range is marked dirty, old ones too, so that reclaim swaps rather
      // than frees them; a later shared write fault then dirties nothing (on 5.10: no retry for
      // dirty balancing, a minor fault; fuzz seed 57 of fuzz-tmpfs-s1-n100.linux-5.10).
      const had = findFolio(inode.mapping, i);
      if (had >= 0) { folioMarkDirty(this.k, this.k.frames.head[had]!); continue; }
      // SGP_FALLOC: the folio is allocated but neither cleared nor uptodate; the first fault or
      // read clears it. Fault-around skips it meanwhile (the 6.18 host: a fallocated 64 MiB tmpfs
      // file takes 16384 read faults, against 1024 for a written one).
      const pfn = lim.fits(1) ? addNewFolio(this.k, inode.mapping, i, 0, true) : -1;
      if (pfn < 0) { this.undoFalloc(inode, first, i); return -ENOSPC; }
      this.k.frames.flags[pfn] = this.k.frames.flags[pfn]! & ~(PG_locked | PG_uptodate);
      folioMarkDirty(this.k, pfn);
      this.k.charge(this.k.costs.pageAllocNs, COST.pageAlloc);
    }
    return 0;
  }

  /** shmem_undo_range with unfalloc (v6.1): free the folios of [first, end) still not uptodate. */
  private undoFalloc(inode: Inode, first: number, end: number): void {
    const f = this.k.frames;
    for (let i = first; i < end; i++) {
      const h = findFolio(inode.mapping, i);
      if (h >= 0 && (f.flags[h]! & PG_uptodate) === 0) removeFolio(this.k, inode.mapping, h, 0);
    }
  }

  fsync(): number { return 0; }

  /** i_blocks of a tmpfs inode: 8 sectors per page the file holds. */
  stBlocks(inode: Inode): number { return inode.mapping.nrpages * 8; }
  reserveForWrite(): number { return 0; }
  evict(): void { /* the VFS truncates the page cache */ }
}

/**
 * Allocate a zeroed, uptodate, locked shmem page at `index` (shmem_alloc_and_add_folio, after
 * shmem_inode_acct_blocks). Returns the PFN, -ENOSPC past the mount's block limit, -ENOMEM when
 * memory is exhausted.
 */
export function shmemAllocPage(k: Kernel, inode: Inode, index: number): number {
  const lim = inode.mapping.blockLimit;
  if (lim !== null && !lim.fits(1)) return -ENOSPC;
  const pfn = addNewFolio(k, inode.mapping, index, 0, true);
  if (pfn < 0) return -ENOMEM;
  k.frames.fillFrame(pfn, 0);
  k.frames.flags[pfn] = k.frames.flags[pfn]! | PG_uptodate;
  k.charge(k.costs.pageAllocNs + k.costs.pageZeroNs, COST.zeroing);
  return pfn;
}

/**
 * shmem_fault -> shmem_get_folio_gfp(SGP_CACHE) (mm/shmem.c v6.1): SIGBUS at or beyond EOF; a
 * cached page is locked and returned (cleared and marked uptodate first if fallocate left it
 * not uptodate); a hole gets a new zeroed page. Never major (no I/O without swap).
 */
export function shmemFault(k: Kernel, vmf: VmFault): number {
  const inode = vmf.vma!.file!.inode;
  const index = vmf.pgoff;
  if (index >= maxIndex(inode)) return VM_FAULT_SIGBUS;
  k.charge(k.costs.pageCacheLookupNs, COST.pageCacheLookup);
  let head = findFolio(inode.mapping, index);
  if (head >= 0) {
    waitFolioUnlocked(k, head);
    k.frames.flags[head] = k.frames.flags[head]! | PG_locked;
    if ((k.frames.flags[head]! & PG_uptodate) === 0) {
      // A fallocated folio: cleared and marked uptodate on first use.
      const n = 1 << k.frames.order[head]!;
      for (let j = 0; j < n; j++) k.frames.fillFrame(head + j, 0);
      k.frames.flags[head] = k.frames.flags[head]! | PG_uptodate;
      k.charge(n * k.costs.pageZeroNs, COST.zeroing);
    }
    vmf.page = head + (index - k.frames.index[head]!);
    k.lru.markAccessed(head);
    return VM_FAULT_LOCKED;
  }
  head = shmemAllocPage(k, inode, index);
  // vmf_error: ENOSPC (the size limit) is SIGBUS, ENOMEM is OOM.
  if (head < 0) return head === -ENOSPC ? VM_FAULT_SIGBUS : VM_FAULT_OOM;
  vmf.page = head;
  return VM_FAULT_LOCKED;
}
