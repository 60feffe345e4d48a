/**
 * The fault path: from the x86 exception to a PTE. Models arch/x86/mm/fault.c
 * do_user_addr_fault and mm/memory.c handle_mm_fault, handle_pte_fault, do_fault,
 * do_read_fault, do_cow_fault, do_shared_fault, do_wp_page, finish_fault and do_anonymous_page
 * (v6.1 structure; the profile selects the version-dependent accounting and retry rules of
 * reference §1.1 and §1.7).
 */
import { assert } from '../lib/assert.ts';
import { SIGBUS, SIGSEGV, BUS_ADRERR, SEGV_MAPERR, SEGV_ACCERR } from '../lib/errno.ts';
import { OWNER_ANON, PG_locked, PG_swapbacked } from '../hw/frames.ts';
import type { Kernel, Task } from '../kernel/kernel.ts';
import { downRead, upRead } from '../lib/rwsem.ts';
import type { Vma, VmFault } from './mm.ts';
import {
  FAULT_FLAG_WRITE, FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_KILLABLE, FAULT_FLAG_USER, FAULT_FLAG_TRIED,
  FAULT_FLAG_INTERRUPTIBLE, FAULT_FLAG_MKWRITE, FAULT_FLAG_VMA_LOCK,
  VM_FAULT_ERROR, VM_FAULT_NOPAGE, VM_FAULT_RETRY, VM_FAULT_LOCKED, VM_FAULT_MAJOR, VM_FAULT_OOM,
  VM_FAULT_SIGBUS, VM_FAULT_SIGSEGV, VM_FAULT_HWPOISON, VM_FAULT_HWPOISON_LARGE, VM_FAULT_DONE_COW,
  VM_FAULT_FALLBACK, VM_READ, VM_WRITE, VM_EXEC, VM_SHARED, VM_HUGEPAGE, VM_NOHUGEPAGE,
  _PAGE_PRESENT, _PAGE_RW, _PAGE_DIRTY, _PAGE_ACCESSED, _PAGE_SPECIAL, _PAGE_USER, _PAGE_NX,
} from './constants.ts';
import { PteTable, PMD_BYTES, pmdIndex, pmdTableOf, pteTableOf, pteIndex, setPte, installLogOpen,
  installLogStamp, installStats } from './pgtable.ts';
import { pteAlloc } from './pgalloc.ts';
import { doFaultAround, rfcCollectWindow, rfcMapWindow } from './fault-around.ts';
import { folioMarkDirty, maxIndex, maybeUnlockMmapForIo } from './pagemap.ts';
import { folioWithinISize, wholeFolioFits, I_SIZE_FINISH_FAULT } from './whole-folio.ts';
import { thpAnonEligible, doHugePmdAnonymousPage, doHugePmdWpAnon, filePmdSuitable, doSetPmd,
  splitHugePmdAny } from './huge-memory.ts';
import { COST, N_COST } from '../lib/cost-category.ts';

/** SIGKILL from the OOM killer, reported like a signal. */
export const SIGKILL = 9;

/** Per-category cost of the traced fault (reused: a consumer copies what it keeps). */
const traceCost0 = new Float64Array(N_COST), traceCost = new Float64Array(N_COST);

/**
 * do_user_addr_fault (arch/x86/mm/fault.c): handle a user access to `addr` that the page-table
 * walk could not satisfy. Returns 0 when the access can be re-executed, or the signal number
 * (SIGSEGV, SIGBUS, SIGKILL for OOM) also recorded in task.lastSignal.
 */
export function doUserAddrFault(k: Kernel, task: Task, addr: number, write: boolean): number {
  if (!k.concurrent) return faultMaybeTraced(k, task, addr, write);
  // While other tasks run, the fault holds mmap_lock for read over its simulated time
  // (lock_mm_and_find_vma, mm/memory.c v6.18; on 6.4+ lock_vma_under_rcu takes the VMA's lock,
  // which a writer of the same mm takes too: vma_start_write), so it waits for an mmap, munmap,
  // mprotect or madvise that writes the mm, and they wait for it (lib/rwsem.ts).
  const lock = task.process.mm.mmapLock;
  downRead(k, task, lock);
  const r = faultMaybeTraced(k, task, addr, write);
  upRead(k, task, lock);
  return r;
}

/** do_user_addr_fault's body, with the fault trace event around it when tracing (see above). */
function faultMaybeTraced(k: Kernel, task: Task, addr: number, write: boolean): number {
  const trace = k.faultTrace;
  if (trace === null) return userAddrFault(k, task, addr, write);
  const startNs = task.clockNs, e0 = installStats.entries, p0 = installStats.pmdLeaves;
  const maj0 = task.majflt, min0 = task.minflt;
  traceCost0.set(task.costNs);
  // exceptions:page_fault_user: X86_PF_USER | X86_PF_WRITE; the writer adds X86_PF_PROT for a present PTE.
  const tp = k.tracer;
  if (tp !== null) tp.pageFaultUser(task, addr, write ? 6 : 4);
  const sig = userAddrFault(k, task, addr, write);
  for (let i = 0; i < N_COST; i++) traceCost[i] = task.costNs[i]! - traceCost0[i]!;
  trace({
    task: task.name, tid: task.tid, addr, write, startNs, endNs: task.clockNs,
    counted: task.majflt > maj0 ? 'major' : task.minflt > min0 ? 'minor' : 'none',
    entries: installStats.entries - e0, pmdLeaves: installStats.pmdLeaves - p0, signal: sig, costNs: traceCost,
  });
  return sig;
}

function userAddrFault(k: Kernel, task: Task, addr: number, write: boolean): number {
  const mm = task.process.mm;
  let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_USER | FAULT_FLAG_INTERRUPTIBLE;
  if (write) flags |= FAULT_FLAG_WRITE;
  const p = k.profile;
  let major = false;
  let firstAttempt = true;
  let fault = 0;
  let vma: Vma | null = mm.findVma(addr);
  if (p.perVmaLock && vma && vma.start <= addr && !accessError(vma, write)) {
    // lock_vma_under_rcu succeeded: try the fault under the per-VMA lock first.
    fault = handleMmFault(k, task, vma, addr, flags | FAULT_FLAG_VMA_LOCK);
    if ((fault & VM_FAULT_RETRY) === 0) {
      k.vmstat.vma_lock_success++;
      return faultDone(k, task, addr, fault);
    }
    k.vmstat.vma_lock_retry++;
    k.events.faultRetries++;
    if (fault & VM_FAULT_MAJOR) flags |= FAULT_FLAG_TRIED;
  }
  for (;;) {
    vma = mm.findVma(addr);
    if (!vma || vma.start > addr) return signal(task, SIGSEGV, SEGV_MAPERR, addr);
    if (accessError(vma, write)) return signal(task, SIGSEGV, SEGV_ACCERR, addr);
    fault = handleMmFault(k, task, vma, addr, flags);
    major = major || (fault & VM_FAULT_MAJOR) !== 0;
    if (p.rusageAccounting === 'first-attempt' && firstAttempt && (fault & VM_FAULT_ERROR) === 0) {
      if (fault & VM_FAULT_MAJOR) task.majflt++; else task.minflt++;
    }
    firstAttempt = false;
    if ((fault & VM_FAULT_RETRY) !== 0) {
      assert((flags & FAULT_FLAG_ALLOW_RETRY) !== 0, 'fault returned RETRY without ALLOW_RETRY');
      flags |= FAULT_FLAG_TRIED;
      if (p.faultRetry === 'once') flags &= ~FAULT_FLAG_ALLOW_RETRY;
      k.events.faultRetries++;
      continue;
    }
    break;
  }
  if (p.rusageAccounting === 'completed-or-major' && (fault & VM_FAULT_ERROR) === 0) {
    if (major) task.majflt++; else task.minflt++;
  }
  return faultDone(k, task, addr, fault);
}

function faultDone(k: Kernel, task: Task, addr: number, fault: number): number {
  if (k.crashHook !== null) {
    k.crashFaultAddr = addr;
    k.crashFaultPid = task.process.pid;
    k.crashHook('fault');
  }
  if ((fault & VM_FAULT_ERROR) === 0) return 0;
  if (fault & VM_FAULT_OOM) {
    // pagefault_out_of_memory: with nothing reclaimable the OOM killer takes the faulting task.
    k.vmstat.oom_kill++;
    return signal(task, SIGKILL, 0, addr);
  }
  if (fault & (VM_FAULT_SIGBUS | VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE)) {
    return signal(task, SIGBUS, BUS_ADRERR, addr);
  }
  if (fault & VM_FAULT_SIGSEGV) return signal(task, SIGSEGV, SEGV_ACCERR, addr);
  throw new Error(`fault ended with unexpected result 0x${fault.toString(16)}`);
}

function signal(task: Task, signo: number, code: number, addr: number): number {
  task.lastSignal = { signo, code, addr };
  return signo;
}

/** access_error (arch/x86/mm/fault.c v6.1) for a not-present or write fault. */
function accessError(vma: Vma, write: boolean): boolean {
  if (write) return (vma.flags & VM_WRITE) === 0;
  return (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0;
}

/**
 * handle_mm_fault + __handle_mm_fault (mm/memory.c v6.1): count the fault as the profile's
 * version does, try a huge PMD fault where the VMA allows it, else handle it at PTE level.
 */
export function handleMmFault(k: Kernel, task: Task, vma: Vma, addr: number, flags: number): number {
  const p = k.profile;
  if (p.pgfaultAccounting === 'every-attempt') k.vmstat.pgfault++;
  k.charge(k.costs.faultEntryNs, COST.faultEntry);
  const vmf = task.vmf;
  vmf.reset(vma, addr, flags);
  const concurrent = k.concurrent;
  if (concurrent) installLogOpen();
  let ret = -1;
  const ops = vma.ops;
  const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
  const pi = pmdIndex(vmf.address);
  if (pmd && pmd.leafFlags[pi] !== 0) {
    // A huge PMD is mapped here: a write to a read-only one is wp_huge_pmd, anything else is spurious.
    if (pmd.visibleFromNs !== null) waitForInstall(k, task, pmd.visibleFromNs[pi]!);
    const lf = pmd.leafFlags[pi]!;
    if ((flags & FAULT_FLAG_WRITE) !== 0 && (lf & _PAGE_RW) === 0 && !vma.file) {
      // do_huge_pmd_wp_page on anonymous memory: THP for the huge zero page, reuse, or split.
      const r = doHugePmdWpAnon(k, vmf, pmd, pi);
      if ((r & VM_FAULT_FALLBACK) === 0) ret = r;
    } else if ((flags & FAULT_FLAG_WRITE) !== 0 && (lf & _PAGE_RW) === 0) {
      const r = ops && ops.hugeFault ? ops.hugeFault(vmf, 9) : VM_FAULT_FALLBACK;
      if ((r & VM_FAULT_FALLBACK) === 0) ret = r;
      // wp_huge_pmd's fallback: split (for a file or DAX PMD, zap it); the PTE path refaults.
      else splitHugePmdAny(k, vma, pmd, pi, vmf.address - (vmf.address % PMD_BYTES), (h) => folioMarkDirty(k, h));
    } else {
      pmd.leafFlags[pi] = lf | _PAGE_ACCESSED | ((flags & FAULT_FLAG_WRITE) ? _PAGE_DIRTY : 0);
      ret = 0;
    }
  } else if (ops && ops.hugeFault && hugepageVmaCheck(vma) && (!pmd || pmd.tables[pi] === null)) {
    const r = ops.hugeFault(vmf, 9);
    if ((r & VM_FAULT_FALLBACK) === 0) ret = r;
  } else if (!vma.file && (!pmd || pmd.tables[pi] === null) && thpAnonEligible(k, vma, vmf.address)) {
    // create_huge_pmd for anonymous memory.
    const r = doHugePmdAnonymousPage(k, vmf);
    if ((r & VM_FAULT_FALLBACK) === 0) ret = r;
  }
  if (ret < 0) ret = handlePteFault(k, task, vmf);
  // What this attempt installed becomes visible to the mm's other tasks now (see InstallLog).
  if (concurrent) installLogStamp(task.clockNs);
  // mm_account_fault
  if (p.pgfaultAccounting === 'completed' && (ret & VM_FAULT_RETRY) === 0) k.vmstat.pgfault++;
  if (p.rusageAccounting === 'mm-account-fault' && (ret & (VM_FAULT_RETRY | VM_FAULT_ERROR)) === 0) {
    if ((ret & VM_FAULT_MAJOR) !== 0 || (flags & FAULT_FLAG_TRIED) !== 0) task.majflt++;
    else task.minflt++;
  }
  if ((ret & (VM_FAULT_RETRY | VM_FAULT_ERROR)) === 0) assertNoLockedPage(k, vmf);
  return ret;
}

/**
 * A fault that found its PTE or huge PMD already present, installed by another task's fault that
 * finishes later in simulated time (the stamp `visibleFromNs`, set only while tasks run
 * concurrently). The model ran that fault to completion in one step, so its entry is already in
 * the table; in Linux this task would not have seen it yet: it would have faulted, then slept on
 * the lock the installer holds until the installer had set the entry and let go (the folio lock
 * in filemap_fault / __do_fault, the DAX entry lock in grab_mapping_entry via
 * get_unlocked_entry, or the PTE lock in finish_fault; v6.1), and returned without installing
 * anything (VM_FAULT_NOPAGE, or 0 for a spurious fault). So the task sleeps until the stamp and
 * the fault goes on as the spurious fault it is, counted by the usual accounting of the caller
 * (pgfault, and minflt per the profile). A stamp not after the task's clock costs nothing. The
 * fault entry cost was charged before the wait (the entry runs while the installer still works).
 * The model's granularity is one step: the installer's step ran first because its clock was
 * earliest, so this task waits even where, in Linux, it might have reached the lock before the
 * installer took it.
 */
function waitForInstall(k: Kernel, task: Task, visibleFromNs: number): void {
  if (visibleFromNs <= task.clockNs) return;
  k.mightSleep('a page-table entry another task is installing');
  k.events.faultInstallWaits++;
  k.events.faultInstallWaitNs += visibleFromNs - task.clockNs;
  k.waitUntil(task, visibleFromNs, COST.lockWait);
  if (k.current === task) k.runDue();
}

/** hugepage_vma_check (v6.1) for the fault path: DAX VMAs (hugeFault present) always, unless MADV_NOHUGEPAGE. */
function hugepageVmaCheck(vma: Vma): boolean {
  return (vma.flags & VM_NOHUGEPAGE) === 0 && (vma.flags & VM_HUGEPAGE) !== 0;
}

function assertNoLockedPage(k: Kernel, vmf: VmFault): void {
  if (vmf.page >= 0) {
    const head = k.frames.head[vmf.page]!;
    assert((k.frames.flags[head]! & PG_locked) === 0, `fault finished with page ${vmf.page} still locked`);
  }
}

/**
 * handle_pte_fault (mm/memory.c v6.1): the decision table of reference §1.3. A present entry that
 * another task's fault has not finished installing (in simulated time) is waited for first.
 */
function handlePteFault(k: Kernel, task: Task, vmf: VmFault): number {
  const vma = vmf.vma!;
  const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
  const t = pmd ? pmd.tables[pmdIndex(vmf.address)] ?? null : null;
  const i = pteIndex(vmf.address);
  if (!t || t.flags[i] === 0) {
    if (t) { vmf.pte = t; vmf.pteIndex = i; }
    return vma.ops ? doFault(k, vmf) : doAnonymousPage(k, vmf);
  }
  vmf.pte = t;
  vmf.pteIndex = i;
  if (t.visibleFromNs !== null) waitForInstall(k, task, t.visibleFromNs[i]!);
  const fl = t.flags[i]!;
  if ((vmf.flags & FAULT_FLAG_WRITE) !== 0) {
    if ((fl & _PAGE_RW) === 0) return doWpPage(k, vmf);
    t.flags[i] = fl | _PAGE_DIRTY | _PAGE_ACCESSED;
    return 0;
  }
  t.flags[i] = fl | _PAGE_ACCESSED;
  return 0;
}

/** do_fault (mm/memory.c v6.1): route a not-present fault on a file VMA. */
function doFault(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  if (!vma.ops || typeof vma.ops.fault !== 'function') return VM_FAULT_SIGBUS;
  if ((vmf.flags & FAULT_FLAG_WRITE) === 0) return doReadFault(k, vmf);
  if ((vma.flags & VM_SHARED) === 0) return doCowFault(k, vmf);
  return doSharedFault(k, vmf);
}

/** __do_fault (v6.1): call ->fault; the page comes back locked (or the handler installed the PTE). */
function doFaultCall(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  if (!vmf.pte) {
    // Preallocate the PTE table before ->fault, as __do_fault does when the PMD is empty.
    const had = pteTableOf(vma.mm.pgd, vmf.address) !== null;
    const t = pteAlloc(k, vma, vmf.address);
    if (!t) return VM_FAULT_OOM;
    vmf.pte = t;
    vmf.pteIndex = pteIndex(vmf.address);
    vmf.preallocPte = !had;
  }
  const ret = vma.ops!.fault(vmf);
  if ((ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY | VM_FAULT_DONE_COW)) !== 0) {
    // do_fault frees an unused prealloc_pte: the table was never installed in Linux.
    releasePreallocPte(k, vmf);
    return ret;
  }
  if ((ret & VM_FAULT_LOCKED) === 0) {
    const head = k.frames.head[vmf.page]!;
    k.frames.flags[head] = k.frames.flags[head]! | PG_locked;
  }
  return ret;
}

function unlockPage(k: Kernel, pfn: number): void {
  const head = k.frames.head[pfn]!;
  k.frames.flags[head] = k.frames.flags[head]! & ~PG_locked;
}

/**
 * vmf_can_call_fault (mm/memory.c, 6.7+: every profile with perVmaLock, the only ones that fault
 * under the per-VMA lock): there, only a VMA with ->map_pages may call ->fault; any other (ext4
 * DAX) drops the lock and returns RETRY, so the fault is redone under mmap_lock after its
 * ->huge_fault already ran once (two dax_pmd_fault events on the 6.12 and 7.2 guests,
 * test/oracle-runs/trace-dax-pmd.linux-7.2.ext4-dax.jsonl).
 */
function canCallFault(vmf: VmFault): number {
  if (vmf.vma!.ops!.mapPages || (vmf.flags & FAULT_FLAG_VMA_LOCK) === 0) return 0;
  return VM_FAULT_RETRY;
}

/** do_read_fault (v6.1; v6.7+ vmf_can_call_fault after fault-around): fault-around, ->fault, finish_fault. */
function doReadFault(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  const style = k.profile.faultAroundStyle;
  if (style === 'map_pages' && vma.ops!.mapPages) {
    const r = doFaultAround(k, vmf);
    if (r !== 0) return r;
  }
  const can = canCallFault(vmf);
  if (can !== 0) return can;
  const rfc = style === 'rfc-page-array' && vma.ops!.rfcFaultAround === true;
  if (rfc) rfcCollectWindow(k, vmf);
  let ret = doFaultCall(k, vmf);
  if ((ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) !== 0) return ret;
  if (rfc) rfcMapWindow(k, vmf);
  ret |= finishFault(k, vmf);
  unlockPage(k, vmf.page);
  return ret;
}

/** do_cow_fault (v6.1; v6.7+ vmf_can_call_fault first): a write to a not-present page of a private file mapping. */
function doCowFault(k: Kernel, vmf: VmFault): number {
  const can = canCallFault(vmf);
  if (can !== 0) return can;
  k.events.cowFaults++;
  vmf.vma!.anonVma = true; // anon_vma_prepare
  const cow = allocAnonPage(k);
  if (cow < 0) return VM_FAULT_OOM;
  vmf.cowPage = cow;
  let ret = doFaultCall(k, vmf);
  if ((ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) !== 0) {
    freeAnonPage(k, cow);
    vmf.cowPage = -1;
    return ret;
  }
  if (ret & VM_FAULT_DONE_COW) return ret;
  k.copyPhysToFrame(cow, vmf.page);
  k.charge(k.costs.pageZeroNs, COST.zeroing);
  ret |= finishFault(k, vmf);
  unlockPage(k, vmf.page);
  return ret;
}

/** do_shared_fault (v6.1; v6.7+ vmf_can_call_fault first): a write to a not-present page of a shared file mapping. */
function doSharedFault(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  const can = canCallFault(vmf);
  if (can !== 0) return can;
  let ret = doFaultCall(k, vmf);
  if ((ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) !== 0) return ret;
  if (vma.ops!.pageMkwrite) {
    unlockPage(k, vmf.page);
    const tmp = doPageMkwrite(k, vmf);
    if ((tmp & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) !== 0) return tmp;
  }
  ret |= finishFault(k, vmf);
  if ((ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE | VM_FAULT_RETRY)) !== 0) {
    unlockPage(k, vmf.page);
    return ret;
  }
  const head = k.frames.head[vmf.page]!;
  const dirtied = folioMarkDirty(k, head);
  unlockPage(k, vmf.page);
  return ret | faultDirtySharedPage(k, vmf, dirtied || vma.ops!.pageMkwrite !== undefined);
}

/**
 * fault_dirty_shared_page (mm/memory.c, 5.1-5.18; v6.1 the same with VM_FAULT_COMPLETED): after a
 * shared write fault newly dirtied a page (set_page_dirty returned true), or always when its VMA
 * has ->page_mkwrite, mmap_lock is dropped for balance_dirty_pages_ratelimited. 5.1-5.18 then
 * return VM_FAULT_RETRY (knob dirtyBalanceRetry): the retry finds the PTE made and, with
 * FAULT_FLAG_TRIED, mm_account_fault counts it major (5.10 guest: 32768 major write faults on a
 * cached ext4 file, ext4-large-folios.linux-5.10.ext4; on tmpfs, which has no ->page_mkwrite, 512
 * major faults writing 512 clean pages, fuzz seed 72 of fuzz-tmpfs-s1-n100.linux-5.10); 5.19+
 * return VM_FAULT_COMPLETED, a minor fault. `balance` is dirtied || page_mkwrite. Returns the
 * bits to add to the fault's result.
 */
function faultDirtySharedPage(k: Kernel, vmf: VmFault, balance: boolean): number {
  if (!k.profile.dirtyBalanceRetry || !balance) return 0;
  return maybeUnlockMmapForIo(k, vmf) ? VM_FAULT_RETRY : 0;
}

/** do_page_mkwrite (v6.1): call ->page_mkwrite with FAULT_FLAG_MKWRITE; the page comes back locked. */
function doPageMkwrite(k: Kernel, vmf: VmFault): number {
  const old = vmf.flags;
  vmf.flags = old | FAULT_FLAG_WRITE | FAULT_FLAG_MKWRITE;
  const ret = vmf.vma!.ops!.pageMkwrite!(vmf);
  vmf.flags = old;
  if ((ret & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) !== 0) return ret;
  if ((ret & VM_FAULT_LOCKED) === 0) {
    const head = k.frames.head[vmf.page]!;
    k.frames.flags[head] = k.frames.flags[head]! | PG_locked;
  }
  return ret | VM_FAULT_LOCKED;
}

/**
 * finish_fault (v6.1): install the PTE for vmf.page (or the COW copy): protection from
 * vm_page_prot, RW and Dirty only for writes to shared mappings or COW copies. NOPAGE when the
 * PTE was filled meanwhile.
 */
export function finishFault(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  const f = k.frames;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  const cow = write && (vma.flags & VM_SHARED) === 0;
  const pfn = cow ? vmf.cowPage : vmf.page;
  let t = vmf.pte;
  if (!cow && vma.file) {
    // do_set_pmd first for a PMD-sized page-cache folio on an empty PMD (v6.18 also keeps the
    // i_size guard: not for a folio reaching past EOF on a non-shmem file).
    // Only PMD-sized folios go this way: order-0 faults skip the extra walk.
    const head = f.head[pfn]!;
    if (f.order[head] === 9) {
      if (releasePreallocPte(k, vmf)) t = null;
      const r = finishFaultPmd(k, vmf, head, write);
      if (r !== VM_FAULT_FALLBACK) return r;
    }
  }
  if (!t) {
    t = pteAlloc(k, vma, vmf.address);
    if (!t) return VM_FAULT_OOM;
    vmf.pte = t;
    vmf.pteIndex = pteIndex(vmf.address);
  }
  const i = vmf.pteIndex;
  if (t.flags[i] !== 0) {
    if (cow) { freeAnonPage(k, vmf.cowPage); vmf.cowPage = -1; }
    return VM_FAULT_NOPAGE;
  }
  let prot = vma.pageProt;
  if (write) prot |= _PAGE_RW | _PAGE_DIRTY;
  if (!cow && k.profile.mapWholeFolio) {
    const n = wholeFolioPages(k, vmf, t, pfn);
    if (n > 1) {
      const head = f.head[pfn]!;
      const first = i - (pfn - head);
      for (let j = 0; j < n; j++) {
        setPte(t, first + j, head + j, prot);
        f.mapcount[head + j] = f.mapcount[head + j]! + 1;
      }
      k.charge(n * k.costs.pteSetNs, COST.pageTable);
      f.refcount[head] = f.refcount[head]! + n;
      vma.mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, n);
      return 0;
    }
  }
  setPte(t, i, pfn, prot);
  k.charge(k.costs.pteSetNs, COST.pageTable);
  f.mapcount[pfn] = f.mapcount[pfn]! + 1;
  if (cow) {
    vma.mm.rssAnon++;
    k.lru.addFolio(pfn, false);
  } else {
    const head = f.head[pfn]!;
    f.refcount[head] = f.refcount[head]! + 1;
    vma.mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, 1);
  }
  return 0;
}

/**
 * finish_fault's do_set_pmd step (mm/memory.c v6.18): a PMD-sized page-cache folio on an empty PMD
 * is mapped with one PMD where do_set_pmd's checks pass and (mapWholeFolio, 74207de2ba10) the
 * i_size guard allows it. VM_FAULT_FALLBACK sends the fault on to the PTE path.
 */
function finishFaultPmd(k: Kernel, vmf: VmFault, head: number, write: boolean): number {
  const vma = vmf.vma!;
  const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
  const pi = pmdIndex(vmf.address);
  if (pmd && (pmd.tables[pi] !== null || pmd.leafFlags[pi] !== 0)) return VM_FAULT_FALLBACK;
  if (!filePmdSuitable(k, vma, vmf.address, head)) return VM_FAULT_FALLBACK;
  if (k.profile.mapWholeFolio && !folioWithinISize(k, head, maxIndex(vma.file!.inode), I_SIZE_FINISH_FAULT)) {
    return VM_FAULT_FALLBACK;
  }
  return doSetPmd(k, vmf, head, write);
}

/**
 * How many PTEs finish_fault sets for file page `pfn` in v6.18 (19773df031bc "try to map the
 * entire file folio", with the i_size guard of 74207de2ba10): the whole folio when the whole-folio
 * rule allows it (whole-folio.ts, with finish_fault's i_size line) and all its PTEs are empty
 * (else the single-page fallback). Also stands for do_set_pmd where that could not map the folio.
 */
function wholeFolioPages(k: Kernel, vmf: VmFault, t: PteTable, pfn: number): number {
  const f = k.frames;
  const head = f.head[pfn]!;
  const n = 1 << f.order[head]!;
  if (n === 1) return 1;
  const vma = vmf.vma!;
  const idx = pfn - head;
  // The folio's first file page as mapped here, and the file page of this table's first slot.
  const fidx = vmf.pgoff - idx, tableFirst = vmf.pgoff - vmf.pteIndex;
  const withinISize = folioWithinISize(k, head, maxIndex(vma.file!.inode), I_SIZE_FINISH_FAULT);
  if (!wholeFolioFits(vma, fidx, n, tableFirst, withinISize)) return 1;
  const first = vmf.pteIndex - idx;
  for (let j = first; j < first + n; j++) if (t.flags[j] !== 0) return 1;
  return n;
}

/**
 * Give back the PTE table __do_fault allocated for this fault if nothing was mapped in it (v6.18): in
 * Linux it is vmf->prealloc_pte, installed only by finish_fault (which may map a PMD instead) and
 * freed by do_fault otherwise. Returns true when it was released.
 */
function releasePreallocPte(k: Kernel, vmf: VmFault): boolean {
  const t = vmf.pte;
  if (!vmf.preallocPte || !t || t.used !== 0) return false;
  const vma = vmf.vma!;
  const pmd = pmdTableOf(vma.mm.pgd, vmf.address);
  const pi = pmdIndex(vmf.address);
  if (!pmd || pmd.tables[pi] !== t) return false;
  pmd.tables[pi] = null;
  pmd.used--;
  k.frames.free(t.framePfn, 0);
  vma.mm.pgtablePages--;
  vma.mm.invalidateWalkCache();
  vmf.pte = null;
  vmf.preallocPte = false;
  return true;
}

/** Allocate a zeroed anonymous page (alloc_zeroed_user_highpage_movable). */
export function allocAnonPage(k: Kernel): number {
  const pfn = k.allocPages(0);
  if (pfn < 0) return -1;
  k.frames.owner[pfn] = OWNER_ANON;
  k.frames.flags[pfn] = PG_swapbacked;
  k.charge(k.costs.pageAllocNs, COST.pageAlloc);
  return pfn;
}

function freeAnonPage(k: Kernel, pfn: number): void {
  const f = k.frames;
  f.refcount[pfn] = f.refcount[pfn]! - 1;
  if (f.refcount[pfn] === 0) { k.lru.removeFolio(pfn); f.free(pfn, 0); }
}

/** do_anonymous_page (v6.1): read maps the shared zero page; write gets a fresh zeroed page. */
function doAnonymousPage(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  const t = pteAlloc(k, vma, vmf.address);
  if (!t) return VM_FAULT_OOM;
  const i = pteIndex(vmf.address);
  if ((vmf.flags & FAULT_FLAG_WRITE) === 0) {
    const zeroProt = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_SPECIAL | (vma.pageProt & _PAGE_NX);
    setPte(t, i, k.frames.zeroPfn, zeroProt);
    return 0;
  }
  vma.anonVma = true; // anon_vma_prepare (the read path above maps the zero page without one)
  const pfn = allocAnonPage(k);
  if (pfn < 0) return VM_FAULT_OOM;
  k.charge(k.costs.pageZeroNs, COST.zeroing);
  setPte(t, i, pfn, vma.pageProt | _PAGE_RW | _PAGE_DIRTY);
  k.frames.mapcount[pfn] = 1;
  vma.mm.rssAnon++;
  k.lru.addFolio(pfn, false);
  return 0;
}

/**
 * do_wp_page (v6.1): a write to a present read-only PTE. Special PTEs (zero page, PFN/DAX maps)
 * go to wp_pfn_shared (->pfn_mkwrite) in shared writable VMAs, else are copied; file pages in
 * shared VMAs go to wp_page_shared (->page_mkwrite, then dirty); private ones are copied (COW);
 * an exclusive anonymous page is reused.
 */
function doWpPage(k: Kernel, vmf: VmFault): number {
  const vma = vmf.vma!;
  const t = vmf.pte!;
  const i = vmf.pteIndex;
  const f = k.frames;
  const fl = t.flags[i]!;
  const pfn = t.pfn[i]!;
  k.events.wpFaults++;
  const sharedWritable = (vma.flags & (VM_WRITE | VM_SHARED)) === (VM_WRITE | VM_SHARED);
  if ((fl & _PAGE_SPECIAL) !== 0) {
    if (sharedWritable) {
      const ops = vma.ops;
      if (ops && ops.pfnMkwrite) {
        const old = vmf.flags;
        vmf.flags |= FAULT_FLAG_MKWRITE;
        const r = ops.pfnMkwrite(vmf);
        vmf.flags = old;
        if ((r & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) !== 0) return r;
      }
      if (t.flags[i] === fl) t.flags[i] = fl | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
      return 0;
    }
    return wpPageCopy(k, vmf, pfn);
  }
  if (f.owner[pfn] === OWNER_ANON) {
    // wp_can_reuse_anon_folio: exclusive when every reference is one of its own mappings (a
    // PTE-mapped THP holds one reference per mapped subpage).
    const head = f.head[pfn]!;
    let maps = 1;
    if (f.order[head]! > 0) { maps = 0; for (let j = 0; j < 1 << f.order[head]!; j++) maps += f.mapcount[head + j]!; }
    if (f.refcount[head] === maps) {
      t.flags[i] = fl | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
      return 0;
    }
    return wpPageCopy(k, vmf, pfn);
  }
  if (sharedWritable) {
    vmf.page = pfn;
    const head = f.head[pfn]!;
    if (vma.ops && vma.ops.pageMkwrite) {
      const r = doPageMkwrite(k, vmf);
      if ((r & (VM_FAULT_ERROR | VM_FAULT_NOPAGE)) !== 0) return r;
      // finish_mkwrite_fault: the PTE must be unchanged.
      if (t.flags[i] !== fl || t.pfn[i] !== pfn) { unlockPage(k, pfn); return VM_FAULT_NOPAGE; }
    }
    t.flags[i] = fl | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED;
    const dirtied = folioMarkDirty(k, head);
    f.flags[head] = f.flags[head]! & ~PG_locked;
    return faultDirtySharedPage(k, vmf, dirtied || vma.ops?.pageMkwrite !== undefined);
  }
  return wpPageCopy(k, vmf, pfn);
}

/** wp_page_copy (v6.1): replace the PTE with a private, writable copy of the old page (zero page: zeroed). */
function wpPageCopy(k: Kernel, vmf: VmFault, oldPfn: number): number {
  const vma = vmf.vma!;
  const t = vmf.pte!;
  const i = vmf.pteIndex;
  const f = k.frames;
  const fl = t.flags[i]!;
  vma.anonVma = true; // anon_vma_prepare
  const pfn = allocAnonPage(k);
  if (pfn < 0) return VM_FAULT_OOM;
  if (oldPfn !== f.zeroPfn) k.copyPhysToFrame(pfn, oldPfn);
  k.charge(k.costs.pageZeroNs, COST.zeroing);
  if ((fl & _PAGE_SPECIAL) === 0) {
    const head = f.head[oldPfn]!;
    f.mapcount[oldPfn] = f.mapcount[oldPfn]! - 1;
    f.refcount[head] = f.refcount[head]! - 1;
    if (f.owner[oldPfn] === OWNER_ANON) {
      vma.mm.rssAnon--;
      if (f.refcount[head] === 0) { k.lru.removeFolio(head); f.free(head, f.order[head]!); }
    } else vma.mm.addFileRss((f.flags[head]! & PG_swapbacked) !== 0, -1);
  }
  setPte(t, i, pfn, (vma.pageProt & ~_PAGE_RW) | _PAGE_RW | _PAGE_DIRTY);
  f.mapcount[pfn] = 1;
  vma.mm.rssAnon++;
  k.lru.addFolio(pfn, false);
  k.vmstat.nr_tlb_local_flush_all++;
  return 0;
}

