/**
 * Linux errno values (x86-64, include/uapi/asm-generic/errno-base.h and errno.h) and signal numbers.
 * Convention used across the daxsim API: a syscall returns a non-negative result, or -errno,
 * exactly as the raw system call does; `errnoName(-ret)` gives the name.
 */
export const EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, ECHILD = 10, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12,
  EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EISDIR = 21,
  EINVAL = 22, ENFILE = 23, EMFILE = 24, ETXTBSY = 26, EFBIG = 27, ENOSPC = 28, ESPIPE = 29,
  EROFS = 30, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, EOPNOTSUPP = 95, EOVERFLOW = 75;

const names: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 10: 'ECHILD', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN',
  12: 'ENOMEM', 13: 'EACCES',
  14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 19: 'ENODEV', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL',
  23: 'ENFILE', 24: 'EMFILE', 26: 'ETXTBSY', 27: 'EFBIG', 28: 'ENOSPC', 29: 'ESPIPE', 30: 'EROFS',
  36: 'ENAMETOOLONG', 38: 'ENOSYS', 39: 'ENOTEMPTY', 75: 'EOVERFLOW', 95: 'EOPNOTSUPP',
};

export function errnoName(errno: number): string {
  return names[errno] ?? `E${errno}`;
}

export function errnoByName(name: string): number | undefined {
  for (const [k, v] of Object.entries(names)) if (v === name) return Number(k);
  return undefined;
}

/** Signals (x86-64 numbering) and the si_code values daxsim reports. */
export const SIGBUS = 7, SIGSEGV = 11;
export const BUS_ADRERR = 2, BUS_MCEERR_AR = 4, SEGV_MAPERR = 1, SEGV_ACCERR = 2;

export function signalName(signo: number): string {
  return signo === SIGBUS ? 'SIGBUS' : signo === SIGSEGV ? 'SIGSEGV' : `SIG${signo}`;
}
