/**
 * ext4_dax_vm_ops (fs/ext4/file.c), assembled from variant tables: the seam where a profile swaps
 * one vm_operations callback of ext4 DAX files.
 *
 * ext4_dax_vm_ops has callbacks that differ between releases and RFCs; each such callback has a
 * table below, keyed by every value of the profile knob that selects it (the key type is the
 * knob's type, so a knob value without a row does not type-check). A row is one function that
 * makes the callback once per mount (closures are made here, never per fault), or null where the
 * release has no such callback: the key is then left out of the vm_ops, as the kernel leaves the
 * pointer NULL, and mm/ sees what it saw before (`ops.mapPages` undefined: no DAX fault-around).
 *
 * Adding a profile that swaps one callback is three steps, nothing else changes:
 *   1. a value for the knob (its values table in src/kernel/knobs.ts, one line) and the profile
 *      entry using it (src/kernel/profiles-rfc.ts, spreading a base, and its name in profiles.ts);
 *   2. one row in the callback's table here;
 *   3. the function the row names (the mechanism itself in src/dax/, its maker here).
 * Example (profile rfc-dax-entry-pfn): a DAX ->map_pages that maps only entries already holding a
 * PFN is the knob value `daxMapPages: 'entry-pfn'`, the profile in profiles-rfc.ts, the row
 * `'entry-pfn': entryPfnMapPagesOp` in DAX_MAP_PAGES_OPS and daxEntryPfnMapPages (src/dax/map-pages.ts).
 */
import type { Kernel } from '../../kernel/kernel.ts';
import type { KernelProfile } from '../../kernel/knobs.ts';
import type { VmFault, VmOperations } from '../../mm/mm.ts';
import { daxPfnMkwrite, kaniDaxMapPages } from '../../dax/fault.ts';
import { daxEntryPfnMapPages } from '../../dax/map-pages.ts';
import type { Ext4 } from './ext4.ts';

/** What a variant's maker gets: the kernel, the filesystem, and its ->fault (ext4_dax_fault). */
interface DaxOpsCtx {
  readonly k: Kernel;
  readonly fs: Ext4;
  readonly fault: (vmf: VmFault) => number;
}
type HugeFaultOp = NonNullable<VmOperations['hugeFault']>;
type PfnMkwriteOp = NonNullable<VmOperations['pfnMkwrite']>;
type MapPagesOp = NonNullable<VmOperations['mapPages']>;
/** A variant table: for every value V of the selecting knob, the maker of the callback, or null (none). */
type Variants<V extends string, Op> = { readonly [K in V]: ((c: DaxOpsCtx) => Op) | null };

/** ->huge_fault by daxPmd: ext4_dax_huge_fault for PMD faults (4.10+), none in the 2014 patchset. */
const DAX_HUGE_FAULT_OPS: Variants<`${KernelProfile['daxPmd']}`, HugeFaultOp> = {
  true: ext4DaxHugeFaultOp,
  false: null,
};
function ext4DaxHugeFaultOp(c: DaxOpsCtx): HugeFaultOp {
  return (vmf, order) => c.fs.daxHugeFault(vmf, order);
}

/** ->pfn_mkwrite by daxPfnMkwrite: the full DAX fault (4.14+), dax_pfn_mkwrite (4.5-4.13), none (2014). */
const DAX_PFN_MKWRITE_OPS: Variants<KernelProfile['daxPfnMkwrite'], PfnMkwriteOp> = {
  'full-fault': ext4DaxFullFaultPfnMkwriteOp,
  dax_pfn_mkwrite: daxPfnMkwriteOp,
  none: null,
};
function ext4DaxFullFaultPfnMkwriteOp(c: DaxOpsCtx): PfnMkwriteOp {
  return c.fault;
}
function daxPfnMkwriteOp(c: DaxOpsCtx): PfnMkwriteOp {
  return (vmf) => daxPfnMkwrite(c.k, vmf);
}

/** ->map_pages by daxMapPages: none (every release), Kani's dax_map_pages (seed 000). */
const DAX_MAP_PAGES_OPS: Variants<KernelProfile['daxMapPages'], MapPagesOp> = {
  none: null,
  'kani-2014': kaniMapPagesOp,
  'entry-pfn': entryPfnMapPagesOp,
};
function kaniMapPagesOp(c: DaxOpsCtx): MapPagesOp {
  return (vmf, s, e) => kaniDaxMapPages(c.k, vmf, c.fs, s, e);
}
function entryPfnMapPagesOp(c: DaxOpsCtx): MapPagesOp {
  return (vmf, s, e) => daxEntryPfnMapPages(c.k, vmf, s, e);
}

/**
 * ext4_dax_vm_ops (fs/ext4/file.c v6.1; 4.5-4.13 and the 2014 patchset through the profile): fault
 * and page_mkwrite go to the DAX fault handler (ext4_dax_fault); huge_fault, pfn_mkwrite and
 * map_pages come from the variant tables above, by the profile's knobs.
 */
export function ext4DaxVmOps(k: Kernel, fs: Ext4): VmOperations {
  const p = k.profile;
  const fault = (vmf: VmFault) => fs.daxHugeFault(vmf, 0);
  const c: DaxOpsCtx = { k, fs, fault };
  const ops: { -readonly [K in keyof VmOperations]: VmOperations[K] } = {
    name: 'ext4_dax_vm_ops',
    fault,
    pageMkwrite: fault,
    canWriteback: true,
  };
  const hugeFault = DAX_HUGE_FAULT_OPS[p.daxPmd ? 'true' : 'false'];
  if (hugeFault !== null) ops.hugeFault = hugeFault(c);
  const pfnMkwrite = DAX_PFN_MKWRITE_OPS[p.daxPfnMkwrite];
  if (pfnMkwrite !== null) ops.pfnMkwrite = pfnMkwrite(c);
  const mapPages = DAX_MAP_PAGES_OPS[p.daxMapPages];
  if (mapPages !== null) ops.mapPages = mapPages(c);
  return ops;
}
