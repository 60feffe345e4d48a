/**
 * x86-64 four-level page tables (PGD -> PUD -> PMD -> PTE), one object per page-table page, each
 * backed by a simulated DRAM frame so `PageTables` in meminfo is real. A PTE table keeps its 512
 * entries in two typed arrays (flag word, PFN): 8 bytes per entry, the kernel's own cost.
 * Models the layout of arch/x86/include/asm/pgtable_64_types.h (4-level, PAGE_SHIFT 12, 512
 * entries per level); bit meanings are in constants.ts.
 */
import { assert } from '../lib/assert.ts';
import { PTRS_PER_TABLE, _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_RW, _PAGE_USER, _PAGE_PWT, _PAGE_PCD, _PAGE_ACCESSED,
  _PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL, _PAGE_SPECIAL, _PAGE_SOFTW2, _PAGE_SOFT_DIRTY, _PAGE_DEVMAP,
  _PAGE_NX } from './constants.ts';

export class PteTable {
  readonly flags = new Int32Array(PTRS_PER_TABLE);
  readonly pfn = new Int32Array(PTRS_PER_TABLE);
  /**
   * Per entry, the simulated time from which another task of the mm may see it (see
   * `InstallLog`); allocated the first time a fault installs an entry here while tasks run
   * concurrently, so single-task runs never pay for it. 0 = visible to everyone.
   */
  visibleFromNs: Float64Array | null = null;
  /** Number of non-empty entries. */
  used = 0;
  readonly framePfn: number;
  constructor(framePfn: number) { this.framePfn = framePfn; }
}

export class PmdTable {
  readonly tables: Array<PteTable | null> = new Array<PteTable | null>(PTRS_PER_TABLE).fill(null);
  /** Huge (PSE) leaf entries: flag word and PFN; flags 0 when the slot is not a leaf. */
  readonly leafFlags = new Int32Array(PTRS_PER_TABLE);
  readonly leafPfn = new Int32Array(PTRS_PER_TABLE);
  /** Per huge leaf, the time from which other tasks may see it (as PteTable.visibleFromNs). */
  visibleFromNs: Float64Array | null = null;
  used = 0;
  readonly framePfn: number;
  constructor(framePfn: number) { this.framePfn = framePfn; }
}

export class PudTable {
  readonly pmds: Array<PmdTable | null> = new Array<PmdTable | null>(PTRS_PER_TABLE).fill(null);
  used = 0;
  readonly framePfn: number;
  constructor(framePfn: number) { this.framePfn = framePfn; }
}

export class Pgd {
  readonly puds: Array<PudTable | null> = new Array<PudTable | null>(PTRS_PER_TABLE).fill(null);
  used = 0;
  readonly framePfn: number;
  constructor(framePfn: number) { this.framePfn = framePfn; }
}

export const PGDIR_SIZE = 2 ** 39;
export const PUD_BYTES = 2 ** 30;
export const PMD_BYTES = 2 ** 21;

export function pgdIndex(addr: number): number { return Math.floor(addr / PGDIR_SIZE) % 512; }
export function pudIndex(addr: number): number { return Math.floor(addr / PUD_BYTES) % 512; }
export function pmdIndex(addr: number): number { return Math.floor(addr / PMD_BYTES) % 512; }
export function pteIndex(addr: number): number { return (addr % PMD_BYTES) >>> 12; }

/** Find the PMD table covering `addr`, or null (no allocation). */
export function pmdTableOf(pgd: Pgd, addr: number): PmdTable | null {
  const pud = pgd.puds[pgdIndex(addr)];
  if (!pud) return null;
  return pud.pmds[pudIndex(addr)] ?? null;
}

/** Find the PTE table covering `addr`, or null (no allocation; also null under a huge PMD). */
export function pteTableOf(pgd: Pgd, addr: number): PteTable | null {
  const pmd = pmdTableOf(pgd, addr);
  if (!pmd) return null;
  return pmd.tables[pmdIndex(addr)] ?? null;
}

/**
 * Entries (PTEs and huge PMD leaves) that the running fault made present, while the kernel runs
 * several tasks at once (Kernel.concurrent). The model runs a fault to completion in one step,
 * so its entries land in the shared page table at once, although in Linux they only appear when
 * the faulting CPU gets there (set_pte_at / set_pmd_at under the page-table lock, just before
 * the fault drops the folio or DAX-entry lock and returns). handle_mm_fault's model opens the log
 * (`installLogOpen`), the installers record into it, and at the end of the attempt every logged
 * entry is stamped with the task's clock (`installLogStamp`). One log for the process: the model
 * runs one fault at a time, synchronously. Arrays grow once and are reused.
 *
 * The stamp is the time the fault completes, not the time of the set: (1) another task that
 * faulted on the entry meanwhile is waiting on the lock the installer drops after the set (folio
 * or DAX entry lock), so it resumes at the unlock, which the model places at the end of the fault
 * (a few tens of ns after the set at most: the long work, I/O, block allocation, zeroing, is
 * charged before the set); (2) one place then covers every installer (finish_fault, fault-around
 * and map_pages, the DAX PTE and PMD inserts, do_anonymous_page, COW). Only entries that were
 * empty are logged: a write upgrade of a present PTE (do_wp_page) or a COW replacement keeps the
 * old stamp, since a reader of the old entry takes no fault in Linux either.
 */
class InstallLog {
  active = false;
  n = 0;
  readonly tables: Array<PteTable | PmdTable> = [];
  readonly index: number[] = [];
}
const installLog = new InstallLog();

/** Running totals of entries made present (PTEs and huge PMD leaves), read by the fault trace. */
export const installStats = { entries: 0, pmdLeaves: 0 };

/** Start logging the entries a fault makes present (concurrent mode only). */
export function installLogOpen(): void {
  installLog.active = true;
  installLog.n = 0;
}

/**
 * Stop logging and give every logged entry `visibleFromNs` (allocating the table's stamp array
 * on first use). Returns the number of entries stamped.
 */
export function installLogStamp(visibleFromNs: number): number {
  const log = installLog;
  log.active = false;
  const n = log.n;
  for (let j = 0; j < n; j++) {
    const t = log.tables[j]!;
    const stamps = t.visibleFromNs ?? (t.visibleFromNs = new Float64Array(PTRS_PER_TABLE));
    stamps[log.index[j]!] = visibleFromNs;
  }
  log.n = 0;
  return n;
}

/** Drop whatever is logged without stamping (entries stay visible to all): after an aborted run. */
export function installLogClose(): void {
  const log = installLog;
  for (let j = 0; j < log.n; j++) {
    const stamps = log.tables[j]!.visibleFromNs;
    if (stamps !== null) stamps[log.index[j]!] = 0;
  }
  log.active = false;
  log.n = 0;
}

/**
 * What the running ->map_pages call has made present, for do_fault_around's contract check
 * (fault-around.ts): the OR of the flag words of its new PTEs, how many of them fell outside the
 * window's slots [first, last] and the lowest and highest of those, and the same for new huge PMD
 * leaves. The new PTEs themselves are counted by installStats.entries and the table's `used`.
 * setPte and setPmdLeaf update it only while `active` (one branch otherwise): a new PTE inside
 * the window costs two compares and an OR, and nothing is allocated.
 */
export class InstallWatch {
  active = false;
  first = 0;
  last = 0;
  flagsOr = 0;
  outside = 0;
  lo = 0;
  hi = 0;
  pmds = 0;
  pmdIndex = 0;
  pmdFlagsOr = 0;
  /** Start watching a ->map_pages call whose window is PTE slots [first, last] (do_fault_around). */
  begin(first: number, last: number): void {
    this.active = true;
    this.first = first; this.last = last;
    this.flagsOr = 0; this.outside = 0; this.lo = 512; this.hi = -1;
    this.pmds = 0; this.pmdIndex = 0; this.pmdFlagsOr = 0;
  }
}
export const installWatch = new InstallWatch();

function watchPte(i: number, flags: number): void {
  const w = installWatch;
  w.flagsOr |= flags;
  if (i < w.first || i > w.last) {
    w.outside++;
    if (i < w.lo) w.lo = i;
    if (i > w.hi) w.hi = i;
  }
}

/**
 * A new entry at `t[i]` (empty before): in concurrent mode log it for stamping, otherwise it is
 * visible at once (clear a stamp left by an earlier concurrent run).
 */
export function noteInstall(t: PteTable | PmdTable, i: number): void {
  installStats.entries++;
  const log = installLog;
  if (log.active) {
    if (log.n === log.tables.length) { log.tables.push(t); log.index.push(i); }
    else { log.tables[log.n] = t; log.index[log.n] = i; }
    log.n++;
  } else if (t.visibleFromNs !== null) t.visibleFromNs[i] = 0;
}

/** Write a PTE, keeping the table's used count (a new entry is noted for visibility stamping). */
export function setPte(t: PteTable, i: number, pfn: number, flags: number): void {
  assert((flags & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0, 'setPte with an empty value');
  if (t.flags[i] === 0) {
    t.used++;
    noteInstall(t, i);
    if (installWatch.active) watchPte(i, flags);
  }
  t.flags[i] = flags;
  t.pfn[i] = pfn;
}

/**
 * Install a huge PMD leaf in an empty slot (set_pmd_at, v6.1), keeping the table's used count and
 * noting the new entry for visibility stamping; `mm`'s walk cache is invalidated.
 */
export function setPmdLeaf(mm: { invalidateWalkCache(): void }, pmd: PmdTable, i: number, pfn: number,
  flags: number): void {
  assert(pmd.leafFlags[i] === 0 && pmd.tables[i] === null, 'set_pmd_at over a populated PMD');
  assert((flags & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0, 'setPmdLeaf with an empty value');
  pmd.leafFlags[i] = flags;
  pmd.leafPfn[i] = pfn;
  pmd.used++;
  installStats.pmdLeaves++;
  noteInstall(pmd, i);
  const w = installWatch;
  if (w.active) { w.pmds++; w.pmdIndex = i; w.pmdFlagsOr |= flags; }
  mm.invalidateWalkCache();
}

/** Clear a huge PMD leaf (pmdp_huge_get_and_clear, v6.1), keeping the used count; returns its old flags. */
export function clearPmdLeaf(mm: { invalidateWalkCache(): void }, pmd: PmdTable, i: number): number {
  const old = pmd.leafFlags[i]!;
  if (old === 0) return 0;
  pmd.leafFlags[i] = 0;
  pmd.leafPfn[i] = 0;
  pmd.used--;
  if (pmd.visibleFromNs !== null) pmd.visibleFromNs[i] = 0;
  mm.invalidateWalkCache();
  return old;
}

/** Clear a PTE (pte_clear). */
export function clearPte(t: PteTable, i: number): void {
  if (t.flags[i] !== 0) {
    t.used--;
    t.flags[i] = 0;
    t.pfn[i] = 0;
    if (t.visibleFromNs !== null) t.visibleFromNs[i] = 0;
  }
}

/** The 64-bit x86 PTE value as a BigInt (for traces and the teaching view). */
export function pteToX86(flags: number, pfn: number): bigint {
  let v = BigInt(flags & 0xfff) | (BigInt(pfn) << 12n);
  if (flags & _PAGE_DEVMAP) v |= 1n << 58n;
  if (flags & _PAGE_NX) v |= 1n << 63n;
  return v;
}

const bitNames: Array<[number, string]> = [[_PAGE_PRESENT, 'P'], [_PAGE_RW, 'RW'], [_PAGE_USER, 'U'],
  [_PAGE_PWT, 'PWT'], [_PAGE_PCD, 'PCD'], [_PAGE_ACCESSED, 'A'], [_PAGE_DIRTY, 'D'], [_PAGE_PSE, 'PSE'],
  [_PAGE_GLOBAL, 'G'], [_PAGE_SPECIAL, 'SPECIAL'], [_PAGE_SOFTW2, 'SW2'], [_PAGE_SOFT_DIRTY, 'SOFTDIRTY'],
  [_PAGE_DEVMAP, 'DEVMAP'], [_PAGE_NX, 'NX']];

/** Flag word as names, e.g. "P|U|A|NX". */
export function pteFlagNames(flags: number): string {
  return bitNames.filter(([b]) => flags & b).map(([, n]) => n).join('|') || '0';
}
