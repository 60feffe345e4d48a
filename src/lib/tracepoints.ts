// The tracepoints the model fires, named after the kernel's (include/trace/events/*.h). The
// kernel context holds one `Tracepoints | null` (Kernel.tracer); every call site is guarded by
// one null check, so an untraced run costs one branch per site. Writers (src/trace/) turn the
// calls into `trace-cmd report` lines or a Perfetto trace. Type-only for mm/, dax/ and fs/.

import type { Task, FaultTraceEvent } from '../kernel/kernel.ts';
import type { VmFault } from '../mm/mm.ts';
import type { Inode, AddressSpace, FileSystem } from '../fs/fs.ts';

export type Jbd2Phase = 'start' | 'locking' | 'flushing' | 'logging' | 'end';

export interface Tracepoints {
  /** exceptions:page_fault_user (arch/x86/mm/fault.c handle_page_fault), before the fault is handled. */
  pageFaultUser(task: Task, addr: number, errorCode: number): void;
  /** The fault's outcome, after it (Perfetto's slice; no kernel tracepoint). */
  faultDone(e: FaultTraceEvent): void;
  /** fs_dax:dax_pte_fault / dax_pte_fault_done (fs/dax.c dax_iomap_pte_fault). */
  daxPteFault(vmf: VmFault, done: boolean, result: number): void;
  /** fs_dax:dax_pmd_fault / dax_pmd_fault_done (fs/dax.c dax_iomap_pmd_fault). */
  daxPmdFault(vmf: VmFault, maxPgoff: number, done: boolean, result: number): void;
  /** fs_dax:dax_load_hole (fs/dax.c dax_load_hole). */
  daxLoadHole(vmf: VmFault, result: number): void;
  /** fs_dax:dax_pmd_load_hole / _fallback (fs/dax.c dax_pmd_load_hole). */
  daxPmdLoadHole(vmf: VmFault, zeroPfn: number, entry: number, fallback: boolean): void;
  /** fs_dax:dax_insert_mapping / dax_pmd_insert_mapping (fs/dax.c, versions where they fire). */
  daxInsertMapping(vmf: VmFault, pmd: boolean, pfn: number, entry: number): void;
  /** fs_dax:dax_insert_pfn_mkwrite / _no_entry (fs/dax.c dax_insert_pfn_mkwrite, MAP_SYNC). */
  daxInsertPfnMkwrite(vmf: VmFault, noEntry: boolean, result: number): void;
  /** fs_dax:dax_writeback_range / _done (fs/dax.c dax_writeback_mapping_range). */
  daxWritebackRange(inode: Inode, start: number, end: number, done: boolean): void;
  /** fs_dax:dax_writeback_one (fs/dax.c dax_writeback_one). */
  daxWritebackOne(inode: Inode, pgoff: number, pglen: number): void;
  /** filemap:mm_filemap_add_to_page_cache (mm/filemap.c __filemap_add_folio). */
  filemapAdd(mapping: AddressSpace, pfn: number, index: number, order: number): void;
  /** filemap:mm_filemap_delete_from_page_cache (mm/filemap.c __filemap_remove_folio). */
  filemapDelete(mapping: AddressSpace, pfn: number, index: number, order: number): void;
  /** jbd2:jbd2_start_commit ... jbd2_end_commit (fs/jbd2/commit.c jbd2_journal_commit_transaction). */
  jbd2Commit(fs: FileSystem, phase: Jbd2Phase, tid: number, sync: boolean, atNs: number): void;
  /** A syscall's entry and exit on the running task (Perfetto slice; raw_syscalls in Linux). */
  syscall(name: string, startNs: number, endNs: number): void;
}
