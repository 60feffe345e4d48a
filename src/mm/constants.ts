/**
 * Numeric constants of the x86-64 mm interface: page geometry, PTE bits, VMA flags, fault flags
 * and VM_FAULT_* results. Values are Linux's own (reference §1.6, §5.1, §7), so traces and
 * debug output read like the kernel's.
 */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PTRS_PER_TABLE = 512;
export const PMD_SIZE = 2 * 1024 * 1024; // bytes mapped by one PMD entry / one page table
export const PMD_PAGES = 512;
export const PUD_SIZE = 1024 * 1024 * 1024;
export const TASK_SIZE = 0x7ffffffff000; // x86-64 4-level user address-space top (47 bits minus a guard page)

/**
 * PTE/PMD flag bits. Bits 0-11 are the x86 hardware/software bits at their real positions; the
 * high bits the model needs (DEVMAP bit 58, NX bit 63) are kept at bits 12 and 13 of the stored
 * 32-bit flag word, and `pteToX86` puts them back where the CPU has them.
 */
export const _PAGE_PRESENT = 1 << 0;
export const _PAGE_RW = 1 << 1;
export const _PAGE_USER = 1 << 2;
export const _PAGE_PWT = 1 << 3;
export const _PAGE_PCD = 1 << 4;
export const _PAGE_ACCESSED = 1 << 5;
export const _PAGE_DIRTY = 1 << 6;
export const _PAGE_PSE = 1 << 7;
export const _PAGE_GLOBAL = 1 << 8;
/** x86 marks a PROT_NONE entry by the Global bit without Present (_PAGE_PROTNONE): it still maps its page. */
export const _PAGE_PROTNONE = _PAGE_GLOBAL;
export const _PAGE_SPECIAL = 1 << 9;
export const _PAGE_SOFTW2 = 1 << 10;
export const _PAGE_SOFT_DIRTY = 1 << 11;
export const _PAGE_DEVMAP = 1 << 12; // x86 bit 58
export const _PAGE_NX = 1 << 13; // x86 bit 63

/** VMA flags (include/linux/mm.h). */
export const VM_READ = 0x1, VM_WRITE = 0x2, VM_EXEC = 0x4, VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10, VM_MAYWRITE = 0x20, VM_MAYEXEC = 0x40, VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100, VM_PFNMAP = 0x400, VM_LOCKED = 0x2000;
export const VM_SEQ_READ = 0x8000, VM_RAND_READ = 0x10000, VM_DONTCOPY = 0x20000;
export const VM_NORESERVE = 0x200000, VM_SYNC = 0x800000, VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000, VM_NOHUGEPAGE = 0x40000000;
/** include/linux/mm.h: VM_LOCKONFAULT (mlock2 MLOCK_ONFAULT, mlockall MCL_ONFAULT), VM_DONTEXPAND, VM_WIPEONFORK. */
export const VM_LOCKONFAULT = 0x80000, VM_DONTEXPAND = 0x40000, VM_WIPEONFORK = 0x2000000;
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;

/** Fault flags, 6.1 numbering (include/linux/mm_types.h enum fault_flag). */
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_MKWRITE = 1 << 1;
export const FAULT_FLAG_ALLOW_RETRY = 1 << 2;
export const FAULT_FLAG_RETRY_NOWAIT = 1 << 3;
export const FAULT_FLAG_KILLABLE = 1 << 4;
export const FAULT_FLAG_TRIED = 1 << 5;
export const FAULT_FLAG_USER = 1 << 6;
export const FAULT_FLAG_REMOTE = 1 << 7;
export const FAULT_FLAG_INSTRUCTION = 1 << 8;
export const FAULT_FLAG_INTERRUPTIBLE = 1 << 9;
export const FAULT_FLAG_VMA_LOCK = 1 << 12;

/** vm_fault_t result bits (include/linux/mm_types.h enum vm_fault_reason). */
export const VM_FAULT_OOM = 0x0001;
export const VM_FAULT_SIGBUS = 0x0002;
export const VM_FAULT_MAJOR = 0x0004;
export const VM_FAULT_WRITE = 0x0008;
export const VM_FAULT_HWPOISON = 0x0010;
export const VM_FAULT_HWPOISON_LARGE = 0x0020;
export const VM_FAULT_SIGSEGV = 0x0040;
export const VM_FAULT_NOPAGE = 0x0100;
export const VM_FAULT_LOCKED = 0x0200;
export const VM_FAULT_RETRY = 0x0400;
export const VM_FAULT_FALLBACK = 0x0800;
export const VM_FAULT_DONE_COW = 0x1000;
export const VM_FAULT_NEEDDSYNC = 0x2000;
export const VM_FAULT_COMPLETED = 0x4000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON |
  VM_FAULT_HWPOISON_LARGE | VM_FAULT_FALLBACK;

/** mmap(2) prot and flag values, x86-64 (reference §5.1). */
export const PROT_NONE = 0, PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4;
/** PROT_SEM (include/uapi/asm-generic/mman-common.h): accepted by mprotect on x86, maps to no VM flag. */
export const PROT_SEM = 0x8;
export const MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_32BIT = 0x40, MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800, MAP_EXECUTABLE = 0x1000, MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000, MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000, MAP_FIXED_NOREPLACE = 0x100000, MAP_UNINITIALIZED = 0x4000000;
export const MAP_HUGE_2MB = 21 << 26, MAP_HUGE_1GB = 30 << 26;
/** LEGACY_MAP_MASK (include/linux/mman.h, 4.15-6.1): the flags MAP_SHARED_VALIDATE always accepts. */
export const LEGACY_MAP_MASK = (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE |
  MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE |
  MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | MAP_HUGE_2MB | MAP_HUGE_1GB) >>> 0;

export const MADV_NORMAL = 0, MADV_RANDOM = 1, MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3, MADV_DONTNEED = 4;
export const MADV_FREE = 8, MADV_REMOVE = 9, MADV_DONTFORK = 10, MADV_DOFORK = 11;
export const MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_COLD = 20, MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22, MADV_POPULATE_WRITE = 23;
export const MADV_WIPEONFORK = 18, MADV_KEEPONFORK = 19;
/** include/uapi/linux/mman.h: mremap flags; mlockall and mlock2 flags (asm-generic/mman.h). */
export const MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
export const MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4, MLOCK_ONFAULT = 1;
export const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;

export const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_ACCMODE = 3, O_CREAT = 0x40, O_EXCL = 0x80;
export const O_TRUNC = 0x200, O_APPEND = 0x400, O_DSYNC = 0x1000, O_DIRECT = 0x4000, O_SYNC = 0x101000;
export const FALLOC_FL_KEEP_SIZE = 0x01, FALLOC_FL_PUNCH_HOLE = 0x02, FALLOC_FL_ZERO_RANGE = 0x10;
/** include/uapi/linux/falloc.h: the other fallocate bits (WRITE_ZEROES is 6.17+). */
export const FALLOC_FL_NO_HIDE_STALE = 0x04, FALLOC_FL_COLLAPSE_RANGE = 0x08, FALLOC_FL_INSERT_RANGE = 0x20;
export const FALLOC_FL_UNSHARE_RANGE = 0x40, FALLOC_FL_WRITE_ZEROES = 0x80;
/** include/uapi/linux/mount.h: mount(2) flags the remount step uses. */
export const MS_RDONLY = 1, MS_REMOUNT = 32;

/** Human-readable names for fault results, for traces and errors. */
export function vmFaultNames(ret: number): string {
  const parts: string[] = [];
  const table: Array<[number, string]> = [[VM_FAULT_OOM, 'OOM'], [VM_FAULT_SIGBUS, 'SIGBUS'],
    [VM_FAULT_MAJOR, 'MAJOR'], [VM_FAULT_WRITE, 'WRITE'], [VM_FAULT_HWPOISON, 'HWPOISON'],
    [VM_FAULT_SIGSEGV, 'SIGSEGV'], [VM_FAULT_NOPAGE, 'NOPAGE'], [VM_FAULT_LOCKED, 'LOCKED'],
    [VM_FAULT_RETRY, 'RETRY'], [VM_FAULT_FALLBACK, 'FALLBACK'], [VM_FAULT_DONE_COW, 'DONE_COW'],
    [VM_FAULT_NEEDDSYNC, 'NEEDDSYNC'], [VM_FAULT_COMPLETED, 'COMPLETED']];
  for (const [bit, name] of table) if (ret & bit) parts.push(name);
  return parts.length ? parts.join('|') : '0';
}
