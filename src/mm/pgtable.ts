/**
 * x86-64 four-level page tables (PGD -> PUD -> PMD -> PTE), one object per page-table page, each
 * backed by a simulated DRAM frame so `PageTables` in meminfo is real. A PTE table keeps its 512
 * entries in two typed arrays (flag word, PFN): 8 bytes per entry, the kernel's own cost.
 * Models the layout of arch/x86/include/asm/pgtable_64_types.h (4-level, PAGE_SHIFT 12, 512
 * entries per level); bit meanings are in constants.ts.
 */
import { assert } from '../lib/assert.ts';
import { PTRS_PER_TABLE, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_PWT, _PAGE_PCD, _PAGE_ACCESSED,
  _PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL, _PAGE_SPECIAL, _PAGE_SOFTW2, _PAGE_SOFT_DIRTY, _PAGE_DEVMAP,
  _PAGE_NX } from './constants.ts';

export class PteTable {
  readonly flags = new Int32Array(PTRS_PER_TABLE);
  readonly pfn = new Int32Array(PTRS_PER_TABLE);
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

/** Write a PTE, keeping the table's used count. */
export function setPte(t: PteTable, i: number, pfn: number, flags: number): void {
  assert((flags & _PAGE_PRESENT) !== 0, 'setPte with a non-present value');
  if (t.flags[i] === 0) t.used++;
  t.flags[i] = flags;
  t.pfn[i] = pfn;
}

/** Clear a PTE (pte_clear). */
export function clearPte(t: PteTable, i: number): void {
  if (t.flags[i] !== 0) {
    t.used--;
    t.flags[i] = 0;
    t.pfn[i] = 0;
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
