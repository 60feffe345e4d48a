/**
 * mremap(2) (mm/mremap.c v6.1; the same outcomes in 6.18 for what is modelled): shrink, grow in
 * place, move (MREMAP_MAYMOVE, MREMAP_FIXED) and MREMAP_DONTUNMAP, with the kernel's argument
 * checks and errno. A move carries the page tables over (move_page_tables): whole PTE tables and
 * huge PMDs when source and destination are 2 MiB-aligned (move_normal_pmd, move_huge_pmd),
 * entry by entry otherwise (move_ptes), so moved pages take no fault; a huge file or DAX PMD that
 * cannot move whole is split, which for them means zapped (refaulted later).
 */
import { EINVAL, EFAULT, ENOMEM } from '../lib/errno.ts';
import type { Kernel, Task } from '../kernel/kernel.ts';
import { Vma, type Mm } from './mm.ts';
import { PAGE_SIZE, PMD_SIZE, TASK_SIZE, MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP, MAP_SHARED, MAP_FIXED,
  VM_MAYSHARE, VM_SHARED, VM_DONTEXPAND, VM_PFNMAP, VM_LOCKED, VM_LOCKED_MASK, VM_LOCKONFAULT,
  VM_WRITE } from './constants.ts';
import { doMunmap, getUnmappedArea, insertVma, rangeFree } from './mmap.ts';
import { pmdTableOf, pmdIndex, pteIndex, setPte, clearPte, setPmdLeaf, clearPmdLeaf, type PmdTable,
  type PteTable } from './pgtable.ts';
import { pmdAlloc, pteAlloc } from './pgalloc.ts';
import { splitHugePmdAny } from './huge-memory.ts';
import { folioMarkDirty } from './pagemap.ts';
import { populateRange } from './populate.ts';

const pageAlign = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** What a mremap did, for tests: entries moved as whole PMD tables or leaves, and one by one. */
export const mremapStats = { pmdTables: 0, pmdLeaves: 0, ptes: 0, splits: 0 };

/**
 * The mremap syscall (mm/mremap.c v6.1 SYSCALL_DEFINE5(mremap)): returns the new address or -errno.
 * `task` makes the populate faults of a locked mapping that grew.
 */
export function doMremap(k: Kernel, task: Task, mm: Mm, addr: number, oldLen: number, newLen: number,
  flags: number, newAddr: number): number {
  if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0) return -EINVAL;
  if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) return -EINVAL;
  // MREMAP_DONTUNMAP is a move of the same length only.
  if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || oldLen !== newLen)) return -EINVAL;
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  oldLen = pageAlign(oldLen);
  newLen = pageAlign(newLen);
  if (newLen === 0) return -EINVAL;
  const res = { locked: false };
  // 5.16+ (profile mremapVmaFirst): the VMA at addr is looked up before any path is chosen.
  if (k.profile.mremapVmaFirst) {
    const v = mm.findVma(addr);
    if (!v || v.start > addr) return -EFAULT;
  }
  let r: number;
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) {
    r = mremapTo(k, mm, addr, oldLen, newAddr, newLen, flags, res);
  } else if (oldLen >= newLen) {
    // Always allow a shrinking remap: it just unmaps the tail.
    if (oldLen > newLen) {
      const e = doMunmap(k, mm, addr + newLen, oldLen - newLen);
      if (e < 0) return e;
    }
    return addr;
  } else {
    r = mremapGrow(k, mm, addr, oldLen, newLen, flags, res);
  }
  if (r >= 0 && res.locked && newLen > oldLen) populateNew(k, task, mm, r + oldLen, r + newLen);
  return r;
}

/**
 * mremap's grow path (SYSCALL_DEFINE5(mremap), mm/mremap.c v6.1): [addr, addr + oldLen) grows in
 * place (vma_adjust) when the VMA ends there and the room after it is free, else moves (MAYMOVE).
 */
function mremapGrow(k: Kernel, mm: Mm, addr: number, oldLen: number, newLen: number, flags: number,
  res: { locked: boolean }): number {
  const vma = vmaToResize(mm, addr, oldLen, newLen, flags);
  if (typeof vma === 'number') return vma;
  if (oldLen === vma.end - addr && vmaExpandable(mm, vma, newLen - oldLen)) {
    vma.end = addr + newLen; // vma_adjust (vma_expand in 6.18)
    mm.vmaCache = null;
    if ((vma.flags & VM_LOCKED) !== 0) res.locked = true;
    return addr;
  }
  if ((flags & MREMAP_MAYMOVE) === 0) return -ENOMEM;
  const pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
  const to = getUnmappedArea(mm, 0, newLen, pgoff * PAGE_SIZE, (vma.flags & VM_MAYSHARE) ? MAP_SHARED : 0,
    vma.file !== null && vma.file.inode.sb.fs.thpUnmappedArea(vma.file.inode));
  if (to < 0) return to;
  return moveVma(k, mm, vma, addr, oldLen, newLen, to, flags, res);
}

/** mremap_to (mm/mremap.c v6.1): MREMAP_FIXED or MREMAP_DONTUNMAP. */
function mremapTo(k: Kernel, mm: Mm, addr: number, oldLen: number, newAddr: number, newLen: number, flags: number,
  res: { locked: boolean }): number {
  if (newAddr % PAGE_SIZE !== 0) return -EINVAL;
  if (newLen > TASK_SIZE || newAddr > TASK_SIZE - newLen) return -EINVAL;
  // The old and new ranges must not overlap.
  if (addr + oldLen > newAddr && newAddr + newLen > addr) return -EINVAL;
  if ((flags & MREMAP_FIXED) !== 0) {
    const e = doMunmap(k, mm, newAddr, newLen);
    if (e < 0) return e;
  }
  if (oldLen > newLen) {
    const e = doMunmap(k, mm, addr + newLen, oldLen - newLen);
    if (e < 0) return e;
    oldLen = newLen;
  }
  const vma = vmaToResize(mm, addr, oldLen, newLen, flags);
  if (typeof vma === 'number') return vma;
  const pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
  const mapFlags = ((flags & MREMAP_FIXED) ? MAP_FIXED : 0) | ((vma.flags & VM_MAYSHARE) ? MAP_SHARED : 0);
  const got = getUnmappedArea(mm, newAddr, newLen, pgoff * PAGE_SIZE, mapFlags,
    vma.file !== null && vma.file.inode.sb.fs.thpUnmappedArea(vma.file.inode));
  if (got < 0) return got;
  return moveVma(k, mm, vma, addr, oldLen, newLen, (flags & MREMAP_FIXED) ? newAddr : got, flags, res);
}

/**
 * vma_to_resize (mm/mremap.c v6.1): the VMA at addr that the old range must lie in, or -errno:
 * EFAULT for no VMA or a range past its end, EINVAL for duplicating a private mapping (old_len 0)
 * or DONTUNMAP of a special mapping, EFAULT for growing a VM_DONTEXPAND/VM_PFNMAP one.
 */
function vmaToResize(mm: Mm, addr: number, oldLen: number, newLen: number, flags: number): Vma | number {
  const vma = mm.findVma(addr);
  if (!vma || vma.start > addr) return -EFAULT;
  if (oldLen === 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0) return -EINVAL;
  if ((flags & MREMAP_DONTUNMAP) !== 0 && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return -EINVAL;
  if (oldLen > vma.end - addr) return -EFAULT;
  if (newLen === oldLen) return vma;
  if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) return -EFAULT;
  return vma;
}

/** vma_expandable (mm/mremap.c v6.1): nothing mapped in the `delta` bytes after the VMA. */
function vmaExpandable(mm: Mm, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (end > TASK_SIZE) return false;
  return rangeFree(mm, vma.end, delta);
}

/**
 * move_vma (mm/mremap.c v6.1): a copy of the VMA for [to, to + newLen) (copy_vma: same flags,
 * file, anon_vma), the page tables of the old range moved into it, then the old range unmapped
 * (which finds no entries left) unless MREMAP_DONTUNMAP, which keeps the old VMA empty and clears
 * its VM_LOCKED. Returns `to`.
 */
function moveVma(k: Kernel, mm: Mm, vma: Vma, addr: number, oldLen: number, newLen: number, to: number,
  flags: number, res: { locked: boolean }): number {
  const pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
  const nv = new Vma(mm, to, to + newLen, pgoff, vma.flags, vma.file);
  nv.ops = vma.ops;
  nv.pageProt = vma.pageProt;
  nv.name = vma.name;
  nv.anonVma = vma.anonVma;
  if (vma.file) {
    k.vfs.getMapping(vma.file);
    vma.file.inode.mapping.iMmap.add(nv);
  }
  insertVma(mm, nv);
  if (oldLen > 0) movePageTables(k, vma, addr, nv, to, oldLen);
  mm.invalidateWalkCache();
  if ((flags & MREMAP_DONTUNMAP) !== 0) {
    // The old VMA stays, emptied, and loses VM_LOCKED (6.1 clears it on the whole old VMA).
    vma.flags &= ~VM_LOCKED_MASK;
    return to;
  }
  if (oldLen > 0) {
    const e = doMunmap(k, mm, addr, oldLen);
    if (e < 0) return e;
  }
  if ((nv.flags & VM_LOCKED) !== 0) res.locked = true;
  return to;
}

/**
 * move_page_tables (mm/mremap.c v6.1): per extent up to the next 2 MiB boundary of either
 * address: a huge PMD leaf moves whole when the extent is a full aligned PMD (move_huge_pmd),
 * else it is split (anonymous THP into PTEs; file and DAX PMDs are zapped); a PTE table moves
 * whole when the extent is a full PMD and the destination slot is empty (move_normal_pmd,
 * CONFIG_HAVE_MOVE_PMD on x86); otherwise its entries move one by one (move_ptes).
 */
function movePageTables(k: Kernel, vma: Vma, oldAddr: number, nv: Vma, newAddr: number, len: number): void {
  const mm = vma.mm;
  for (let done = 0; done < len;) {
    const o = oldAddr + done, n = newAddr + done;
    const extent = Math.min(len - done, PMD_SIZE - (o % PMD_SIZE), PMD_SIZE - (n % PMD_SIZE));
    const opmd = pmdTableOf(mm.pgd, o);
    if (opmd) {
      const oi = pmdIndex(o);
      if (opmd.leafFlags[oi] !== 0) {
        if (extent === PMD_SIZE && moveHugePmd(k, nv, opmd, oi, n)) { done += extent; continue; }
        splitHugePmdAny(k, vma, opmd, oi, o - (o % PMD_SIZE), (h) => folioMarkDirty(k, h));
        mremapStats.splits++;
      }
      const t = opmd.tables[oi];
      if (t && t.used > 0) {
        if (extent === PMD_SIZE && moveNormalPmd(k, nv, opmd, oi, n)) { done += extent; continue; }
        moveOnePtes(k, t, o, nv, n, extent);
      }
    }
    done += extent;
  }
}

/** move_huge_pmd (mm/huge_memory.c v6.1): the leaf moves to the new slot if that is empty. */
function moveHugePmd(k: Kernel, nv: Vma, opmd: PmdTable, oi: number, n: number): boolean {
  const npmd = pmdAlloc(k, nv, n);
  if (!npmd) return false;
  const ni = pmdIndex(n);
  if (npmd.leafFlags[ni] !== 0 || npmd.tables[ni] !== null) return false;
  const pfn = opmd.leafPfn[oi]!;
  const fl = clearPmdLeaf(nv.mm, opmd, oi);
  setPmdLeaf(nv.mm, npmd, ni, pfn, fl);
  mremapStats.pmdLeaves++;
  return true;
}

/** move_normal_pmd (mm/mremap.c v6.1): the whole PTE table changes slot when the new one is empty. */
function moveNormalPmd(k: Kernel, nv: Vma, opmd: PmdTable, oi: number, n: number): boolean {
  const npmd = pmdAlloc(k, nv, n);
  if (!npmd) return false;
  const ni = pmdIndex(n);
  if (npmd.leafFlags[ni] !== 0 || npmd.tables[ni] !== null) return false;
  npmd.tables[ni] = opmd.tables[oi]!;
  npmd.used++;
  opmd.tables[oi] = null;
  opmd.used--;
  nv.mm.invalidateWalkCache();
  mremapStats.pmdTables++;
  return true;
}

/** move_ptes (mm/mremap.c v6.1): each entry cleared at the old address and set, unchanged, at the new. */
function moveOnePtes(k: Kernel, t: PteTable, o: number, nv: Vma, n: number,
  extent: number): void {
  const nt = pteAlloc(k, nv, n);
  if (!nt) throw new Error('mremap: out of memory for a page table');
  for (let off = 0; off < extent; off += PAGE_SIZE) {
    const i = pteIndex(o + off);
    const fl = t.flags[i]!;
    if (fl === 0) continue;
    const pfn = t.pfn[i]!;
    clearPte(t, i);
    setPte(nt, pteIndex(n + off), pfn, fl);
    mremapStats.ptes++;
  }
}

/** mm_populate (mm/gup.c v6.1) of the part a locked mapping grew by, errors ignored. */
function populateNew(k: Kernel, task: Task, mm: Mm, start: number, end: number): void {
  const v = mm.findVma(start);
  if (!v || v.start > start) return;
  if ((v.flags & VM_LOCKONFAULT) !== 0) return;
  populateRange(k, task, v, start, Math.min(end, v.end), (v.flags & (VM_SHARED | VM_WRITE)) === VM_WRITE);
}
