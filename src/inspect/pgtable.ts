/**
 * Read-only views of a process's page tables for the browser view and tests: the populated part
 * of the four-level tree (PGD -> PUD -> PMD -> PTE) as JSON-serialisable objects, each leaf with
 * its PFN, its flag bits by name (pteFlagNames) and its 64-bit x86 value (pteToX86). Nothing here
 * runs on the model's hot path: it walks the tables on demand, as a debugger reads
 * /proc/PID/pagemap or the kernel's ptdump (mm/ptdump.c, v6.18) walks them.
 */
import type { Mm } from '../mm/mm.ts';
import { PGDIR_SIZE, PUD_BYTES, PMD_BYTES, pteFlagNames, pteToX86 } from '../mm/pgtable.ts';
import { PTRS_PER_TABLE } from '../mm/constants.ts';

/** One present (or PROT_NONE) leaf: a 4 KiB PTE or a 2 MiB PMD leaf. */
export interface LeafView {
  /** Virtual address the leaf maps. */
  va: number;
  /** Index in its table. */
  index: number;
  pfn: number;
  /** Flag bits by name, e.g. "P|U|A|NX". */
  flags: string;
  /** The x86 entry value, hex. */
  x86: string;
  /** 'new': installed by the last fault; 'changed': its value changed in the last fault. */
  mark?: 'new' | 'changed';
}

export interface PteTableView { va: number; index: number; framePfn: number; used: number; ptes: LeafView[] }
export interface PmdView { va: number; index: number; framePfn: number; used: number;
  huge: LeafView[]; tables: PteTableView[] }
export interface PudView { va: number; index: number; framePfn: number; used: number; pmds: PmdView[] }
export interface PageTableView {
  pgdFramePfn: number;
  puds: PudView[];
  /** Totals over the tree. */
  ptes: number;
  hugePmds: number;
  tablePages: number;
}

function leaf(va: number, index: number, flags: number, pfn: number): LeafView {
  const x86 = '0x' + pteToX86(flags, pfn).toString(16).padStart(16, '0');
  return { va, index, pfn, flags: pteFlagNames(flags), x86 };
}

/** Key of a leaf for diffs: its VA times two, plus one for a PMD leaf. */
export function leafKey(va: number, huge: boolean): number {
  return va * 2 + (huge ? 1 : 0);
}

/**
 * Every populated leaf of `mm` as key -> "flags:pfn" (the state a fault is diffed against).
 * Walks the tree as walk_page_range does (mm/pagewalk.c, v6.18), skipping empty slots.
 */
export function leafValues(mm: Mm): Map<number, string> {
  const out = new Map<number, string>();
  forEachLeaf(mm, (va, huge, flags, pfn) => { out.set(leafKey(va, huge), `${flags}:${pfn}`); });
  return out;
}

/** Calls `fn` for every non-empty leaf of `mm`, in address order (walk_page_range, mm/pagewalk.c v6.18). */
export function forEachLeaf(mm: Mm, fn: (va: number, huge: boolean, flags: number, pfn: number) => void): void {
  const pgd = mm.pgd;
  for (let g = 0; g < PTRS_PER_TABLE; g++) {
    const pud = pgd.puds[g];
    if (!pud) continue;
    for (let u = 0; u < PTRS_PER_TABLE; u++) {
      const pmd = pud.pmds[u];
      if (!pmd) continue;
      const base = g * PGDIR_SIZE + u * PUD_BYTES;
      for (let m = 0; m < PTRS_PER_TABLE; m++) {
        const va = base + m * PMD_BYTES;
        if (pmd.leafFlags[m] !== 0) fn(va, true, pmd.leafFlags[m]!, pmd.leafPfn[m]!);
        const t = pmd.tables[m];
        if (!t || t.used === 0) continue;
        for (let i = 0; i < PTRS_PER_TABLE; i++) if (t.flags[i] !== 0) fn(va + i * 4096, false, t.flags[i]!, t.pfn[i]!);
      }
    }
  }
}

function mark(before: Map<number, string> | null, key: number, flags: number,
  pfn: number): 'new' | 'changed' | undefined {
  if (before === null) return undefined;
  const old = before.get(key);
  if (old === undefined) return 'new';
  return old === `${flags}:${pfn}` ? undefined : 'changed';
}

/**
 * The populated page-table tree of `mm` (ptdump's walk, mm/ptdump.c v6.18). With `before` (from
 * leafValues before the last fault), leaves the fault installed are marked 'new' and leaves whose
 * value it changed 'changed'. Only the populated parts appear: empty tables are left out.
 */
export function pageTableTree(mm: Mm, before: Map<number, string> | null = null): PageTableView {
  const view: PageTableView = { pgdFramePfn: mm.pgd.framePfn, puds: [], ptes: 0, hugePmds: 0, tablePages: 1 };
  mm.pgd.puds.forEach((pud, g) => {
    if (!pud) return;
    const pv: PudView = { va: g * PGDIR_SIZE, index: g, framePfn: pud.framePfn, used: pud.used, pmds: [] };
    view.tablePages++;
    pud.pmds.forEach((pmd, u) => {
      if (!pmd) return;
      const base = g * PGDIR_SIZE + u * PUD_BYTES;
      const mv: PmdView = { va: base, index: u, framePfn: pmd.framePfn, used: pmd.used, huge: [], tables: [] };
      view.tablePages++;
      for (let m = 0; m < PTRS_PER_TABLE; m++) {
        const va = base + m * PMD_BYTES;
        const lf = pmd.leafFlags[m]!;
        if (lf !== 0) {
          const l = leaf(va, m, lf, pmd.leafPfn[m]!);
          const mk = mark(before, leafKey(va, true), lf, pmd.leafPfn[m]!);
          if (mk) l.mark = mk;
          mv.huge.push(l);
          view.hugePmds++;
        }
        const t = pmd.tables[m];
        if (!t) continue;
        view.tablePages++;
        mv.tables.push(pteTableView(t, va, m, before));
        view.ptes += t.used;
      }
      pv.pmds.push(mv);
    });
    view.puds.push(pv);
  });
  return view;
}

function pteTableView(t: { flags: Int32Array; pfn: Int32Array; used: number; framePfn: number }, va: number,
  index: number, before: Map<number, string> | null): PteTableView {
  const tv: PteTableView = { va, index, framePfn: t.framePfn, used: t.used, ptes: [] };
  for (let i = 0; i < PTRS_PER_TABLE; i++) {
    const f = t.flags[i]!;
    if (f === 0) continue;
    const pva = va + i * 4096;
    const l = leaf(pva, i, f, t.pfn[i]!);
    const mk = mark(before, leafKey(pva, false), f, t.pfn[i]!);
    if (mk) l.mark = mk;
    tv.ptes.push(l);
  }
  return tv;
}

/** Leaves of a tree marked 'new' (what the last fault installed), in address order. */
export function newLeaves(view: PageTableView): LeafView[] {
  const out: LeafView[] = [];
  for (const u of view.puds) for (const m of u.pmds) {
    for (const h of m.huge) if (h.mark === 'new') out.push(h);
    for (const t of m.tables) for (const p of t.ptes) if (p.mark === 'new') out.push(p);
  }
  return out.sort((a, b) => a.va - b.va);
}
