// `daxsim run --trace ftrace`: the tracepoints as `trace-cmd report` prints them,
//   comm-pid [cpu] seconds.micros: event: fields
// with each version's TP_printk layout (the profile's `tracepoints` knob). Layouts of 6.18 are
// the host kernel's own format files (test/trace-formats/linux-6.18/*.format, read from
// /sys/kernel/tracing/events on the 6.18 host), 6.1's those of the Debian 6.1 guest
// (test/trace-formats/linux-6.1/, printed by guest-init.sh); 4.15's are from
// include/trace/events/fs_dax.h and filemap.h of that version (the diff that removed
// dax_insert_mapping and dax_pmd_insert_mapping shows their last layout). Values are printed as libtraceevent prints
// them (C printf: "%#lx" of 0 is "0").

import type { FaultTraceEvent, Kernel, Task } from '../kernel/kernel.ts';
import type { Jbd2Phase, Tracepoints } from '../lib/tracepoints.ts';
import type { TracepointSet } from '../kernel/knobs.ts';
import type { VmFault } from '../mm/mm.ts';
import type { AddressSpace, FileSystem, Inode } from '../fs/fs.ts';
import { VM_SHARED, FAULT_FLAG_WRITE, _PAGE_PRESENT } from '../mm/constants.ts';
import { pteTableOf, pmdTableOf, pmdIndex, pteIndex } from '../mm/pgtable.ts';
import { daxFlags, daxPfn } from '../dax/entry.ts';

/** FAULT_FLAG_TRACE of each version: [bit, name], in print order (include/linux/mm_types.h). */
const FAULT_FLAG_NAMES_415: ReadonlyArray<readonly [number, string]> = [
  [1 << 0, 'WRITE'], [1 << 1, 'MKWRITE'], [1 << 2, 'ALLOW_RETRY'], [1 << 3, 'RETRY_NOWAIT'],
  [1 << 4, 'KILLABLE'], [1 << 5, 'TRIED'], [1 << 6, 'USER'], [1 << 7, 'REMOTE'], [1 << 8, 'INSTRUCTION'],
];
/** 5.7 added FAULT_FLAG_INTERRUPTIBLE; 6.4 FAULT_FLAG_VMA_LOCK (names as the 6.18 format file lists them). */
const FAULT_FLAG_NAMES_61 = [...FAULT_FLAG_NAMES_415, [1 << 9, 'INTERRUPTIBLE'] as const];
const FAULT_FLAG_NAMES_618 = [...FAULT_FLAG_NAMES_61, [1 << 12, 'VMA_LOCK'] as const];

/** VM_FAULT_RESULT_TRACE (include/linux/mm_types.h); COMPLETED from 5.19, NEEDDSYNC from 4.15. */
const VM_FAULT_NAMES_618: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'OOM'], [0x2, 'SIGBUS'], [0x4, 'MAJOR'], [0x10, 'HWPOISON'], [0x20, 'HWPOISON_LARGE'],
  [0x40, 'SIGSEGV'], [0x100, 'NOPAGE'], [0x200, 'LOCKED'], [0x400, 'RETRY'], [0x800, 'FALLBACK'],
  [0x1000, 'DONE_COW'], [0x2000, 'NEEDDSYNC'], [0x4000, 'COMPLETED'],
];
/**
 * 4.15's list, still 5.10's and 6.1's (their guests' format files): VM_FAULT_WRITE (0x8) named, no
 * COMPLETED (6.1 has VM_FAULT_COMPLETED but does not name it in VM_FAULT_RESULT_TRACE).
 */
const VM_FAULT_NAMES_415: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'OOM'], [0x2, 'SIGBUS'], [0x4, 'MAJOR'], [0x8, 'WRITE'], [0x10, 'HWPOISON'], [0x20, 'HWPOISON_LARGE'],
  [0x40, 'SIGSEGV'], [0x100, 'NOPAGE'], [0x200, 'LOCKED'], [0x400, 'RETRY'], [0x800, 'FALLBACK'],
  [0x1000, 'DONE_COW'], [0x2000, 'NEEDDSYNC'],
];

interface Layout {
  faultFlags: ReadonlyArray<readonly [number, string]>;
  results: ReadonlyArray<readonly [number, string]>;
  /** The two insert_mapping events fire (4.11 .. before the iomap iterator of 5.17). */
  insertMappingFires: boolean;
  /** dax_pmd_load_hole's page field: zero_page (<= 6.9) or zero_folio (6.10+). */
  zeroField: 'zero_page' | 'zero_folio';
  /**
   * mm_filemap_*_page_cache layout: page pointer and decimal pfn (4.x), or pfn, offset and folio
   * order from 5.17 ("filemap: Convert tracing of page cache operations to folio"; the 6.1 guest
   * prints it: test/oracle-runs/trace-faultaround.linux-6.1.ext4.jsonl).
   */
  filemap: 'page-pfn-dec' | 'pfn-hex-order';
  fsDax: boolean;
}

const LAYOUTS: Readonly<Record<TracepointSet, Layout>> = {
  'v3.15': { faultFlags: FAULT_FLAG_NAMES_415, results: VM_FAULT_NAMES_415, insertMappingFires: false,
    zeroField: 'zero_page', filemap: 'page-pfn-dec', fsDax: false },
  'v4.15': { faultFlags: FAULT_FLAG_NAMES_415, results: VM_FAULT_NAMES_415, insertMappingFires: true,
    zeroField: 'zero_page', filemap: 'page-pfn-dec', fsDax: true },
  'v5.10': { faultFlags: FAULT_FLAG_NAMES_61, results: VM_FAULT_NAMES_415, insertMappingFires: true,
    zeroField: 'zero_page', filemap: 'page-pfn-dec', fsDax: true },
  'v6.1': { faultFlags: FAULT_FLAG_NAMES_61, results: VM_FAULT_NAMES_415, insertMappingFires: false,
    zeroField: 'zero_page', filemap: 'pfn-hex-order', fsDax: true },
  'v6.18': { faultFlags: FAULT_FLAG_NAMES_618, results: VM_FAULT_NAMES_618, insertMappingFires: false,
    zeroField: 'zero_folio', filemap: 'pfn-hex-order', fsDax: true },
};

/** C's "%#lx": 0 prints as "0", anything else with 0x. */
export function hexAlt(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/** __print_flags(value, "|", table): known names in table order, then any leftover bits in hex. */
export function printFlags(value: number, table: ReadonlyArray<readonly [number, string]>): string {
  const names: string[] = [];
  let rest = value;
  for (const [bit, name] of table) {
    if ((rest & bit) === bit && bit !== 0) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join('|');
}

/** x86-64 vmemmap: the struct page of `pfn` (64 bytes each from 0xffffea0000000000), as %p prints it. */
function pagePointer(pfn: number): string {
  return `0x${(0xffffea0000000000n + BigInt(pfn) * 64n).toString(16)}`;
}

/** The kernel's value of a DAX entry: xa_mk_value(pfn << DAX_SHIFT | flags) (fs/dax.c dax_make_entry, 4.x-6.x). */
function kernelEntry(e: number): number {
  return (daxPfn(e) * 16 + daxFlags(e)) * 2 + 1;
}

/** One `trace-cmd report` line. */
export function reportLine(comm: string, pid: number, cpu: number, ns: number, event: string, fields: string): string {
  const sec = Math.floor(ns / 1e9), usec = Math.floor((ns % 1e9) / 1000);
  const c = comm.slice(0, 15);
  return `${c.padStart(16)}-${String(pid).padEnd(5)} [${String(cpu).padStart(3, '0')}] ` +
    `${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}: ${event}: ${fields}`;
}

/** The tracepoints of the running profile, written as text lines to `out`. */
export class FtraceWriter implements Tracepoints {
  private readonly k: Kernel;
  private readonly out: (line: string) => void;
  private readonly layout: Layout;
  private readonly devs = new Map<FileSystem, string>();
  private readonly counts = { pmem: 0, block: 0, tmpfs: 0 };

  constructor(k: Kernel, out: (line: string) => void) {
    this.k = k;
    this.out = out;
    this.layout = LAYOUTS[k.profile.tracepoints];
  }

  private emit(event: string, fields: string, ns = this.k.now(), task: Task = this.k.current): void {
    this.out(reportLine(task.name, task.tid, 0, ns, event, fields));
  }

  /**
   * MAJOR:MINOR of a filesystem's device, numbered in the order first seen: pmem 259:N (blkext,
   * as /dev/pmem0 is on the oracle guest), virtio disks 254:16N (vda 254:0 on the 6.18 host),
   * tmpfs 0:(26+N) (anonymous devices).
   */
  private dev(fs: FileSystem, sep = ':'): string {
    let d = this.devs.get(fs);
    if (d === undefined) {
      const kind = fs.typeName === 'tmpfs' ? 'tmpfs' : fs.daxMount ? 'pmem' : 'block';
      const n = this.counts[kind]++;
      d = kind === 'pmem' ? `259:${n}` : kind === 'block' ? `254:${16 * n}` : `0:${26 + n}`;
      this.devs.set(fs, d);
    }
    return sep === ':' ? d : d.replace(':', sep);
  }

  private inodeHead(inode: Inode): string {
    return `dev ${this.dev(inode.sb.fs)} ino ${hexAlt(inode.ino)}`;
  }

  private vmaHead(vmf: VmFault): string {
    const vma = vmf.vma!;
    return `${this.inodeHead(vma.file!.inode)} ${(vma.flags & VM_SHARED) !== 0 ? 'shared' : 'private'}`;
  }

  /** The fault flags the version has (a flag it lacks is one its kernel never set: masked out). */
  private flags(vmf: VmFault): string {
    let known = 0;
    for (const [bit] of this.layout.faultFlags) known |= bit;
    return printFlags(vmf.flags & known, this.layout.faultFlags);
  }

  private result(r: number): string {
    return printFlags(r, this.layout.results);
  }

  /** exceptions:page_fault_user "address=%ps ip=%ps error_code=0x%lx" (the model has no user ip: 0x0). */
  pageFaultUser(task: Task, addr: number, errorCode: number): void {
    const pgd = task.process.mm.pgd;
    const t = pteTableOf(pgd, addr);
    const pmd = pmdTableOf(pgd, addr);
    const present = (t !== null && (t.flags[pteIndex(addr)]! & _PAGE_PRESENT) !== 0) ||
      (pmd !== null && pmd.leafFlags[pmdIndex(addr)] !== 0);
    const code = errorCode | (present ? 1 : 0);
    const fields = `address=0x${addr.toString(16)} ip=0x0 error_code=0x${code.toString(16)}`;
    this.emit('page_fault_user', fields, undefined, task);
  }

  faultDone(_e: FaultTraceEvent): void { /* no kernel tracepoint at fault exit */ }

  daxPteFault(vmf: VmFault, done: boolean, result: number): void {
    if (!this.layout.fsDax) return;
    this.emit(done ? 'dax_pte_fault_done' : 'dax_pte_fault', this.pteFields(vmf, result));
  }

  /** dax_pte_fault_class: "dev %d:%d ino %#lx %s %s address %#lx pgoff %#lx %s". */
  private pteFields(vmf: VmFault, result: number): string {
    return `${this.vmaHead(vmf)} ${this.flags(vmf)} address ${hexAlt(vmf.address)} pgoff ${hexAlt(vmf.pgoff)} ` +
      this.result(result);
  }

  /** dax_pmd_fault_class: "... address %#lx vm_start %#lx vm_end %#lx pgoff %#lx max_pgoff %#lx %s". */
  daxPmdFault(vmf: VmFault, maxPgoff: number, done: boolean, result: number): void {
    if (!this.layout.fsDax) return;
    const vma = vmf.vma!;
    this.emit(done ? 'dax_pmd_fault_done' : 'dax_pmd_fault', `${this.vmaHead(vmf)} ${this.flags(vmf)} address ` +
      `${hexAlt(vmf.address)} vm_start ${hexAlt(vma.start)} vm_end ${hexAlt(vma.end)} pgoff ${hexAlt(vmf.pgoff)} ` +
      `max_pgoff ${hexAlt(maxPgoff)} ${this.result(result)}`);
  }

  daxLoadHole(vmf: VmFault, result: number): void {
    if (this.layout.fsDax) this.emit('dax_load_hole', this.pteFields(vmf, result));
  }

  /** dax_pmd_load_hole_class: "dev %d:%d ino %#lx %s address %#lx zero_page %p radix_entry %#lx". */
  daxPmdLoadHole(vmf: VmFault, zeroPfn: number, entry: number, fallback: boolean): void {
    if (!this.layout.fsDax) return;
    this.emit(fallback ? 'dax_pmd_load_hole_fallback' : 'dax_pmd_load_hole', `${this.vmaHead(vmf)} address ` +
      `${hexAlt(vmf.address)} ${this.layout.zeroField} ${pagePointer(zeroPfn)} ` +
      `radix_entry ${hexAlt(kernelEntry(entry))}`);
  }

  /**
   * dax_insert_mapping "dev %d:%d ino %#lx %s %s address %#lx radix_entry %#lx" and
   * dax_pmd_insert_mapping "... address %#lx length %#lx pfn %#llx %s radix_entry %#lx" (PFN_DEV|PFN_MAP).
   */
  daxInsertMapping(vmf: VmFault, pmd: boolean, pfn: number, entry: number): void {
    if (!this.layout.fsDax || !this.layout.insertMappingFires) return;
    const rw = (vmf.flags & FAULT_FLAG_WRITE) !== 0 ? 'write' : 'read';
    const e = hexAlt(kernelEntry(entry));
    if (!pmd) {
      this.emit('dax_insert_mapping', `${this.vmaHead(vmf)} ${rw} address ${hexAlt(vmf.address)} radix_entry ${e}`);
      return;
    }
    const addr = vmf.address - (vmf.address % 0x200000);
    this.emit('dax_pmd_insert_mapping', `${this.vmaHead(vmf)} ${rw} address ${hexAlt(addr)} length 0x200000 ` +
      `pfn ${hexAlt(pfn)} DEV|MAP radix_entry ${e}`);
  }

  daxInsertPfnMkwrite(vmf: VmFault, noEntry: boolean, result: number): void {
    if (!this.layout.fsDax) return;
    this.emit(noEntry ? 'dax_insert_pfn_mkwrite_no_entry' : 'dax_insert_pfn_mkwrite', this.pteFields(vmf, result));
  }

  /** dax_writeback_range_class: "dev %d:%d ino %#lx pgoff %#lx-%#lx". */
  daxWritebackRange(inode: Inode, start: number, end: number, done: boolean): void {
    if (!this.layout.fsDax) return;
    this.emit(done ? 'dax_writeback_range_done' : 'dax_writeback_range',
      `${this.inodeHead(inode)} pgoff ${hexAlt(start)}-${hexAlt(end)}`);
  }

  /** dax_writeback_one: "dev %d:%d ino %#lx pgoff %#lx pglen %#lx". */
  daxWritebackOne(inode: Inode, pgoff: number, pglen: number): void {
    if (!this.layout.fsDax) return;
    this.emit('dax_writeback_one', `${this.inodeHead(inode)} pgoff ${hexAlt(pgoff)} pglen ${hexAlt(pglen)}`);
  }

  /** mm_filemap_op_page_cache in the version's layout. */
  private filemapFields(mapping: AddressSpace, pfn: number, index: number, order: number): string {
    const head = `dev ${this.dev(mapping.host.sb.fs)} ino ${mapping.host.ino.toString(16)}`;
    const ofs = index * 4096;
    switch (this.layout.filemap) {
      case 'page-pfn-dec': return `${head} page=${pagePointer(pfn)} pfn=${pfn} ofs=${ofs}`;
      case 'pfn-hex-order': return `${head} pfn=0x${pfn.toString(16)} ofs=${ofs} order=${order}`;
    }
  }

  filemapAdd(mapping: AddressSpace, pfn: number, index: number, order: number): void {
    this.emit('mm_filemap_add_to_page_cache', this.filemapFields(mapping, pfn, index, order));
  }

  filemapDelete(mapping: AddressSpace, pfn: number, index: number, order: number): void {
    this.emit('mm_filemap_delete_from_page_cache', this.filemapFields(mapping, pfn, index, order));
  }

  /**
   * jbd2_start_commit, _commit_locking, _commit_flushing, _commit_logging "dev %d,%d transaction
   * %u sync %d" and jbd2_end_commit "... head %u". The model never checkpoints, so the log's
   * head (j_tail_sequence) stays at the first transaction, 1.
   */
  jbd2Commit(fs: FileSystem, phase: Jbd2Phase, tid: number, sync: boolean, atNs: number): void {
    const event = phase === 'start' ? 'jbd2_start_commit'
      : phase === 'end' ? 'jbd2_end_commit' : `jbd2_commit_${phase}`;
    const tail = phase === 'end' ? ' head 1' : '';
    this.emit(event, `dev ${this.dev(fs, ',')} transaction ${tid} sync ${sync ? 1 : 0}${tail}`, atNs);
  }

  syscall(_name: string, _startNs: number, _endNs: number): void { /* raw_syscalls are not written */ }
}

