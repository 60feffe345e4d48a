/**
 * LRU lists, the per-CPU add batch, workingset shadow entries and reclaim (mm/swap.c,
 * mm/vmscan.c, mm/workingset.c, v6.1, without MGLRU which Debian's config builds but leaves off).
 *
 * - New page-cache folios go to a per-CPU batch first (folio_add_lru); PG_lru is set and the folio
 *   reaches the inactive (or, for a workingset refault, the active) list only when the batch of
 *   `lruBatchPages` fills or is drained. Until then reclaim cannot see it.
 * - folio_mark_accessed: second access of an inactive, referenced folio activates it.
 * - Reclaim (shrink_inactive_list) scans the inactive file list from its tail: mapped folios whose
 *   PTEs were referenced are activated (file pages referenced by more than one PTE, or already
 *   PG_referenced) or rotated; dirty, locked or under-writeback folios are skipped; clean folios are
 *   evicted (unmapped first when no PTE was referenced: try_to_unmap), leaving a shadow entry that
 *   records the eviction clock.
 * - Refault: a shadow whose refault distance is within the active list size is activated on
 *   insertion (workingset_refault), counted in workingset_refault_file / workingset_activate_file.
 * Anonymous and shmem pages are never evicted (no swap is configured).
 */
import { assert } from '../lib/assert.ts';
import { PG_lru, PG_active, PG_referenced, PG_workingset, PG_dirty, PG_locked, PG_writeback,
  PG_swapbacked, PG_unevictable, PG_readahead, PG_mlocked } from '../hw/frames.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { removeFolio } from './pagemap.ts';
import { folioReferenced, unmapMappingPages } from './rmap.ts';
import { VM_LOCKED } from './constants.ts';
import type { AddressSpace } from '../fs/fs.ts';

/** Does a VM_LOCKED VMA map any of file pages [index, index + n)? (mlock_vma_folio's condition) */
function lockedIn(mapping: AddressSpace, index: number, n: number): boolean {
  for (const v of mapping.iMmap) {
    if ((v.flags & VM_LOCKED) === 0) continue;
    const first = v.pgoff, last = v.pgoff + (v.end - v.start) / 4096;
    if (index < last && index + n > first) return true;
  }
  return false;
}

export const LRU_INACTIVE_ANON = 0, LRU_ACTIVE_ANON = 1, LRU_INACTIVE_FILE = 2, LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const LRU_NAMES = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'];

export class Lru {
  private readonly k: Kernel;
  readonly headOf = [-1, -1, -1, -1, -1];
  readonly tailOf = [-1, -1, -1, -1, -1];
  readonly count = [0, 0, 0, 0, 0];
  /** Per-CPU lru_add batch (cpu_fbatches.lru_add): head PFNs waiting to be put on a list. */
  readonly addBatch: number[] = [];
  /** Folios in the batch that must be activated on drain (refaults, mark_accessed while batched). */
  private readonly activateOnDrain = new Set<number>();
  /**
   * Bumped whenever a VM_LOCKED VMA loses its lock or goes away (munlock_vma_folio's occasions:
   * munlock, munmap, exit). Reclaim gives the unevictable list back to the evictable ones once per
   * change (rescueUnevictable), and the scan culls again whatever is still locked.
   */
  private mlockGen = 0;
  private rescuedGen = 0;
  /** Eviction clock (lruvec->nonresident_age) for shadow entries. */
  nonresidentAge = 0;
  lowWatermarkPages: number;
  highWatermarkPages: number;
  minWatermarkPages: number;

  constructor(k: Kernel) {
    this.k = k;
    // calculate_min_free_kbytes (v6.1): sqrt(lowmem_kbytes * 16), clamped to [128 KiB, 256 MiB];
    // low = min * 5/4, high = min * 3/2 (watermark_scale_factor left at its default is ignored).
    const memKb = k.frames.totalPages * 4;
    const minKb = Math.min(262144, Math.max(128, Math.floor(Math.sqrt(memKb * 16))));
    this.minWatermarkPages = Math.floor(minKb / 4);
    this.lowWatermarkPages = Math.floor(this.minWatermarkPages * 5 / 4);
    this.highWatermarkPages = Math.floor(this.minWatermarkPages * 3 / 2);
  }

  private listFor(head: number): number {
    const fl = this.k.frames.flags[head]!;
    if (fl & PG_unevictable) return LRU_UNEVICTABLE;
    const base = (fl & PG_swapbacked) ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE;
    return base + ((fl & PG_active) ? 1 : 0);
  }

  private linkHead(list: number, pfn: number): void {
    const f = this.k.frames;
    const h = this.headOf[list]!;
    f.lruPrev[pfn] = -1;
    f.lruNext[pfn] = h;
    if (h >= 0) f.lruPrev[h] = pfn; else this.tailOf[list] = pfn;
    this.headOf[list] = pfn;
    f.lruList[pfn] = list;
    this.count[list] = this.count[list]! + (1 << f.order[pfn]!);
  }

  private unlink(pfn: number): void {
    const f = this.k.frames;
    const list = f.lruList[pfn]!;
    assert(list >= 0, `unlink of PFN ${pfn} not on an LRU list`);
    const p = f.lruPrev[pfn]!, n = f.lruNext[pfn]!;
    if (p >= 0) f.lruNext[p] = n; else this.headOf[list] = n;
    if (n >= 0) f.lruPrev[n] = p; else this.tailOf[list] = p;
    f.lruPrev[pfn] = -1;
    f.lruNext[pfn] = -1;
    f.lruList[pfn] = -1;
    this.count[list] = this.count[list]! - (1 << f.order[pfn]!);
  }

  /** folio_add_lru (mm/swap.c v6.1): queue in the per-CPU batch; `workingset` marks a refault to activate. */
  addFolio(head: number, workingset: boolean): void {
    if (workingset) this.activateOnDrain.add(head);
    this.addBatch.push(head);
    if (this.addBatch.length >= this.k.profile.lruBatchPages) this.drain();
  }

  /** lru_add_drain: move the batch onto the lists, setting PG_lru. */
  drain(): void {
    const f = this.k.frames;
    for (const head of this.addBatch) {
      if (f.lruList[head] !== -1 || f.refcount[head] === 0) continue; // already removed
      if (this.activateOnDrain.has(head)) f.flags[head] = f.flags[head]! | PG_active | PG_workingset;
      f.flags[head] = f.flags[head]! | PG_lru;
      this.linkHead(this.listFor(head), head);
    }
    this.addBatch.length = 0;
    this.activateOnDrain.clear();
  }

  /** Take a folio off the LRU (or out of the batch) before freeing it. */
  removeFolio(head: number): void {
    const f = this.k.frames;
    if (f.lruList[head]! >= 0) this.unlink(head);
    else {
      const i = this.addBatch.indexOf(head);
      if (i >= 0) this.addBatch.splice(i, 1);
      this.activateOnDrain.delete(head);
    }
    f.flags[head] = f.flags[head]! & ~(PG_lru | PG_active);
  }

  private linkTail(list: number, pfn: number): void {
    const f = this.k.frames;
    const t = this.tailOf[list]!;
    f.lruNext[pfn] = -1;
    f.lruPrev[pfn] = t;
    if (t >= 0) f.lruNext[t] = pfn; else this.headOf[list] = pfn;
    this.tailOf[list] = pfn;
    f.lruList[pfn] = list;
    this.count[list] = this.count[list]! + (1 << f.order[pfn]!);
  }

  /**
   * deactivate_file_folio -> lru_deactivate_file (mm/swap.c v6.18 and v6.1, without MGLRU): the
   * hint invalidation gives a folio it could not drop (drop_caches, POSIX_FADV_DONTNEED). Nothing
   * for an unevictable, off-LRU or mapped folio; otherwise active and referenced are cleared and
   * the folio goes to its inactive list: a dirty or under-writeback one at the head with
   * PG_reclaim set (the PG_readahead bit: fault-around then skips it, and shmem never clears it,
   * so each page of a tmpfs file refaults alone), a clean one at the tail. The kernel passes the
   * folio through a per-CPU batch of 31; on the 6.18 host two folios had PG_reclaim at the next
   * fault with no drain between (test/oracle-runs/tmpfs-drop-caches-batch.linux-6.18.tmpfs.jsonl),
   * so here the move is immediate.
   */
  deactivateFile(head: number): void {
    const f = this.k.frames;
    const fl = f.flags[head]!;
    if ((fl & PG_unevictable) !== 0 || f.lruList[head]! < 0) return;
    const n = 1 << f.order[head]!;
    for (let j = 0; j < n; j++) if (f.mapcount[head + j]! > 0) return;
    this.unlink(head);
    const busy = (fl & (PG_dirty | PG_writeback)) !== 0;
    f.flags[head] = (fl & ~(PG_active | PG_referenced)) | (busy ? PG_readahead : 0);
    if ((fl & PG_active) !== 0) this.k.vmstat.pgdeactivate += n;
    if (busy) this.linkHead(this.listFor(head), head);
    else this.linkTail(this.listFor(head), head);
  }

  /** folio_mark_accessed (mm/swap.c v6.1). */
  markAccessed(head: number): void {
    const f = this.k.frames;
    const fl = f.flags[head]!;
    if ((fl & PG_active) === 0 && (fl & PG_referenced) !== 0) {
      if ((fl & PG_lru) !== 0) {
        this.unlink(head);
        f.flags[head] = (fl | PG_active) & ~PG_referenced;
        this.linkHead(this.listFor(head), head);
        this.k.vmstat.pgactivate += 1 << f.order[head]!;
      } else {
        this.activateOnDrain.add(head);
        f.flags[head] = fl & ~PG_referenced;
      }
    } else if ((fl & PG_referenced) === 0) {
      f.flags[head] = fl | PG_referenced;
    }
  }

  /**
   * workingset_refault (mm/workingset.c v6.1, simplified to one lruvec): the refault distance is
   * the eviction clock's advance since the shadow was made; within the active file list's size the
   * folio is activated. Returns whether to activate.
   */
  workingsetRefault(_head: number, shadowAge: number): boolean {
    this.k.vmstat.workingset_refault_file++;
    const distance = this.nonresidentAge - shadowAge;
    if (distance <= this.count[LRU_ACTIVE_FILE]! + this.count[LRU_INACTIVE_ANON]!) {
      this.k.vmstat.workingset_activate_file++;
      return true;
    }
    return false;
  }

  /**
   * MADV_PAGEOUT's reclaim of one file folio (madvise_cold_or_pageout_pte_range -> reclaim_pages
   * -> shrink_folio_list, v6.x), mapped by this process only: unmapped everywhere (try_to_unmap),
   * then a clean page-cache folio is evicted (a shadow entry stays); a dirty one is kept with
   * PG_reclaim set (the PG_readahead bit, so fault-around skips it and each page refaults); a shmem
   * folio stays cached (no swap). Returns the pages freed.
   */
  pageoutFolio(head: number): number {
    const k = this.k;
    const f = k.frames;
    const mapping = k.mappingOf(f.owner[head]!);
    if (!mapping || (f.flags[head]! & (PG_locked | PG_writeback)) !== 0) return 0;
    const n = 1 << f.order[head]!;
    unmapMappingPages(k, mapping, f.index[head]!, n, false);
    const fl = f.flags[head]!;
    if ((fl & PG_swapbacked) !== 0) return 0;
    if ((fl & PG_dirty) !== 0) { f.flags[head] = fl | PG_readahead; return 0; }
    this.removeFolio(head);
    this.nonresidentAge++;
    removeFolio(k, mapping, head, this.nonresidentAge);
    k.events.reclaimEvicted += n;
    return n;
  }

  /**
   * shrink_folio_list's try_to_unmap for an unreferenced folio taken off the inactive list (v6.1):
   * a mapped one is unmapped everywhere and freed like any clean folio; the next access refaults.
   * Without this, a program reading more clean file data through a mapping than memory holds was
   * OOM-killed, where Linux reclaims (an API fuzzer finding, seed 700590). try_to_unmap stops at a
   * VM_LOCKED VMA: the folio is mlocked and put back on the unevictable list (mlock_vma_folio,
   * folio_putback_lru), where no scan looks at it again; when it went back to the inactive list,
   * every allocation near the watermark rescanned all of them (a hang with memory full of mlocked
   * pages, API fuzzer seed 14000035). Returns whether the folio may be freed now.
   */
  private unmapForReclaim(pfn: number, fl: number, mapping: AddressSpace | null | undefined): boolean {
    const f = this.k.frames;
    const n = 1 << f.order[pfn]!;
    let mapped = false;
    for (let i = 0; i < n; i++) if (f.mapcount[pfn + i]! > 0) mapped = true;
    if (!mapped) return true;
    if (!mapping) { this.linkHead(LRU_INACTIVE_FILE, pfn); return false; }
    if (lockedIn(mapping, f.index[pfn]!, n)) {
      f.flags[pfn] = (fl & ~PG_active) | PG_unevictable | PG_mlocked;
      this.linkHead(LRU_UNEVICTABLE, pfn);
      return false;
    }
    unmapMappingPages(this.k, mapping, f.index[pfn]!, n, false);
    return true;
  }

  /** A VM_LOCKED VMA was unlocked, unmapped or torn down: mlocked folios may be evictable again. */
  munlocked(): void { this.mlockGen++; }

  /**
   * check_move_unevictable_folios in effect (mm/vmscan.c v6.1): after a munlock, unmap or exit the
   * kernel's munlock_folio puts each folio that no VM_LOCKED VMA maps back on its evictable list.
   * The model does it lazily, at the next reclaim after such a change: every culled folio goes to
   * the inactive list's head without PG_mlocked, and the scan culls those still locked again.
   */
  private rescueUnevictable(): void {
    const f = this.k.frames;
    this.rescuedGen = this.mlockGen;
    while (this.headOf[LRU_UNEVICTABLE]! >= 0) {
      const pfn = this.headOf[LRU_UNEVICTABLE]!;
      this.unlink(pfn);
      f.flags[pfn] = f.flags[pfn]! & ~(PG_unevictable | PG_mlocked | PG_active);
      this.linkHead(this.listFor(pfn), pfn);
    }
  }

  /**
   * Reclaim about `nrPages` page-cache pages (shrink_lruvec for file lists, v6.1). Returns pages freed.
   * Deactivates from the active list while the inactive list is the smaller one (inactive_is_low).
   */
  reclaim(nrPages: number): number {
    this.drain();
    if (this.rescuedGen !== this.mlockGen && this.count[LRU_UNEVICTABLE]! > 0) this.rescueUnevictable();
    const k = this.k;
    const f = k.frames;
    let freed = 0;
    let budget = (this.count[LRU_INACTIVE_FILE]! + this.count[LRU_ACTIVE_FILE]!) * 2 + 64;
    while (freed < nrPages && budget-- > 0) {
      if (this.count[LRU_INACTIVE_FILE]! < this.count[LRU_ACTIVE_FILE]!) {
        const a = this.tailOf[LRU_ACTIVE_FILE]!;
        if (a >= 0) {
          // shrink_active_list: move to inactive, clearing the accessed bits it consumed.
          folioReferenced(k, a);
          this.unlink(a);
          f.flags[a] = f.flags[a]! & ~(PG_active | PG_referenced);
          this.linkHead(LRU_INACTIVE_FILE, a);
          k.vmstat.pgdeactivate++;
          k.vmstat.pgrefill++;
          continue;
        }
      }
      const pfn = this.tailOf[LRU_INACTIVE_FILE]!;
      if (pfn < 0) break;
      k.vmstat.pgscan_kswapd++;
      const fl = f.flags[pfn]!;
      this.unlink(pfn);
      if ((fl & (PG_locked | PG_writeback | PG_dirty)) !== 0) {
        this.linkHead(LRU_INACTIVE_FILE, pfn);
        continue;
      }
      const refPtes = folioReferenced(k, pfn);
      if (refPtes > 0) {
        // folio_check_references: referenced again by more than one PTE, or already marked: activate.
        if ((fl & PG_referenced) !== 0 || refPtes > 1) {
          f.flags[pfn] = fl | PG_active;
          this.linkHead(LRU_ACTIVE_FILE, pfn);
          k.vmstat.pgactivate++;
        } else {
          f.flags[pfn] = fl | PG_referenced;
          this.linkHead(LRU_INACTIVE_FILE, pfn);
        }
        continue;
      }
      const mapping = k.mappingOf(f.owner[pfn]!);
      if (!this.unmapForReclaim(pfn, fl, mapping)) continue;
      this.nonresidentAge++;
      const n = 1 << f.order[pfn]!;
      if (mapping) removeFolio(k, mapping, pfn, this.nonresidentAge);
      freed += n;
      k.vmstat.pgsteal_kswapd += n;
      k.events.reclaimEvicted += n;
    }
    return freed;
  }
}
