// User buffers of read(2)/write(2) that lie inside mappings: copy_to_user and copy_from_user
// (arch/x86/lib, include/linux/uaccess.h) and fault_in_readable (mm/gup.c). The kernel copies
// with the user page tables live; a missing or read-only page takes a page fault from kernel
// mode, handled by the same do_user_addr_fault (and counted in the task's min_flt/maj_flt by
// mm_account_fault, as a user fault is). A fault that fails delivers no signal: the exception
// table fixup makes the copy short, and the syscall returns what it copied or -EFAULT.

import type { Kernel, Task } from '../kernel/kernel.ts';
import { doUserAddrFault } from './fault.ts';
import { pteTableOf, pmdTableOf, pteIndex, pmdIndex } from './pgtable.ts';
import { _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PRESENT, _PAGE_RW, PAGE_SIZE, VM_READ, VM_WRITE } from './constants.ts';
import { populateRange } from './populate.ts';
import { EFAULT } from '../lib/errno.ts';

/** Faults per page before the copy gives up as the model's Process.load/store do (a livelock guard). */
const FAULT_TRIES_MAX = 64;

/**
 * The page frame mapped at `addr` with the access allowed (present; writable for a write), with
 * Accessed (and Dirty) set as the CPU's walk does; -1 when the access would fault.
 */
function userPfn(task: Task, addr: number, write: boolean): number {
  const pgd = task.process.mm.pgd;
  const need = write ? _PAGE_PRESENT | _PAGE_RW : _PAGE_PRESENT;
  const set = write ? _PAGE_ACCESSED | _PAGE_DIRTY : _PAGE_ACCESSED;
  const t = pteTableOf(pgd, addr);
  if (t !== null) {
    const i = pteIndex(addr);
    const fl = t.flags[i]!;
    if ((fl & need) !== need) return -1;
    t.flags[i] = fl | set;
    return t.pfn[i]!;
  }
  const pmd = pmdTableOf(pgd, addr);
  if (pmd === null) return -1;
  const pi = pmdIndex(addr);
  const fl = pmd.leafFlags[pi]!;
  if ((fl & need) !== need) return -1;
  pmd.leafFlags[pi] = fl | set;
  return pmd.leafPfn[pi]! + pteIndex(addr);
}

/**
 * The page at `addr` made accessible, faulting as the copy would (a read for copy_from_user and
 * fault_in_readable, a write for copy_to_user); its PFN, or -1 when the fault failed (the
 * kernel's fixup: no signal is delivered, so task.lastSignal is left as it was).
 */
function userPage(k: Kernel, task: Task, addr: number, write: boolean): number {
  for (let tries = 0; tries < FAULT_TRIES_MAX; tries++) {
    const pfn = userPfn(task, addr, write);
    if (pfn >= 0) return pfn;
    const before = task.lastSignal;
    const sig = doUserAddrFault(k, task, addr, write);
    if (sig !== 0) { task.lastSignal = before; return -1; }
  }
  throw new Error(`uaccess 0x${addr.toString(16)}: the fault handler kept returning without mapping the page`);
}

/** A syscall's user buffer [addr, addr + lengthBytes) in the calling task's address space. */
export class UserBuffer {
  readonly k: Kernel;
  readonly task: Task;
  readonly addr: number;
  readonly lengthBytes: number;

  constructor(k: Kernel, task: Task, addr: number, lengthBytes: number) {
    this.k = k;
    this.task = task;
    this.addr = addr;
    this.lengthBytes = lengthBytes;
  }

  /**
   * copy_to_user (raw_copy_to_user, `rep movsb` on x86 since 5.x): `n` bytes from page frame
   * `srcPfn` at byte `srcOff` (a page-cache page) to buffer offset `at`, ascending, faulting on
   * each destination page it reaches; returns the bytes copied (short at the first page whose
   * fault fails: EFAULT for the caller).
   */
  copyOut(at: number, srcPfn: number, srcOff: number, n: number): number {
    const f = this.k.frames;
    let done = 0;
    while (done < n) {
      const va = this.addr + at + done;
      const pfn = userPage(this.k, this.task, va, true);
      if (pfn < 0) return done;
      const off = va % PAGE_SIZE;
      const m = Math.min(PAGE_SIZE - off, n - done);
      for (let i = 0; i < m; i++) this.k.writePhys(pfn, off + i, f.readByte(srcPfn, srcOff + done + i));
      done += m;
    }
    return done;
  }

  /** copy_to_user of bytes from a kernel buffer (a DAX read's bounce); returns the bytes copied. */
  copyOutBytes(at: number, src: Uint8Array): number {
    let done = 0;
    while (done < src.length) {
      const va = this.addr + at + done;
      const pfn = userPage(this.k, this.task, va, true);
      if (pfn < 0) return done;
      const off = va % PAGE_SIZE;
      const m = Math.min(PAGE_SIZE - off, src.length - done);
      for (let i = 0; i < m; i++) this.k.writePhys(pfn, off + i, src[done + i]!);
      done += m;
    }
    return done;
  }

  /**
   * pin_user_pages_fast as a direct-I/O bio takes its pages (bio_iov_iter_get_pages, block/bio.c;
   * get_user_pages_fast on 6.1, pin_user_pages_fast on 6.18): pages [at, at + n) of the buffer,
   * FOLL_WRITE when the kernel writes them (a read into the buffer). The fast walk takes what is
   * mapped as needed; the rest goes through __get_user_pages, whose faults count in the task's
   * min/maj_flt (mm_account_fault with no regs) and whose retried faults carry FAULT_FLAG_TRIED
   * (__get_user_pages_locked), so they count as major. check_vma_flags refuses a missing VMA, a
   * write pin of a VMA without VM_WRITE and a read pin of one without VM_READ: -EFAULT, no fault.
   * Returns 0 or -EFAULT (-ENOMEM when a fault ran out of memory).
   */
  pin(at: number, n: number, write: boolean): number {
    const mm = this.task.process.mm;
    const end = this.addr + at + n;
    for (let va = Math.floor((this.addr + at) / PAGE_SIZE) * PAGE_SIZE; va < end; va += PAGE_SIZE) {
      const vma = mm.findVma(va);
      if (vma === null || vma.start > va) return -EFAULT;
      if ((vma.flags & (write ? VM_WRITE : VM_READ)) === 0) return -EFAULT;
      const r = populateRange(this.k, this.task, vma, va, va + PAGE_SIZE, write, true);
      if (r < 0) return r;
    }
    return 0;
  }

  /**
   * fault_in_readable (mm/gup.c v6.1, fault_in_iov_iter_readable): touch every page of buffer
   * bytes [at, at + n) for reading, in order; returns how many bytes from `at` are readable now
   * (the kernel returns the bytes not faulted in: n minus this).
   */
  faultInReadable(at: number, n: number): number {
    let ok = 0;
    while (ok < n) {
      const va = this.addr + at + ok;
      if (userPage(this.k, this.task, va, false) < 0) return ok;
      ok += Math.min(PAGE_SIZE - (va % PAGE_SIZE), n - ok);
    }
    return ok;
  }

  /**
   * copy_from_user of buffer bytes [at, at + n) into out[0, n) (each page faulted in as it is
   * reached); returns the bytes copied (short where a page cannot be read).
   */
  copyIn(at: number, out: Uint8Array, n: number): number {
    if (n > out.length) throw new Error(`copyIn: ${n} bytes into a ${out.length}-byte buffer`);
    let done = 0;
    while (done < n) {
      const va = this.addr + at + done;
      const pfn = userPage(this.k, this.task, va, false);
      if (pfn < 0) return done;
      const off = va % PAGE_SIZE;
      const m = Math.min(PAGE_SIZE - off, n - done);
      for (let i = 0; i < m; i++) out[done + i] = this.k.readPhys(pfn, off + i);
      done += m;
    }
    return done;
  }
}
