/**
 * The system-call ABI's argument types for the API's plain JavaScript numbers (issue 17).
 * A C caller passes `size_t` (unsigned long) lengths, `loff_t` (long long) offsets and `int` flag
 * words; a JavaScript caller can pass any double. The API takes a number as the kernel would
 * receive it: a negative length is the huge unsigned value it becomes in a register (so munmap
 * of -4096 bytes fails as Linux's do_vmi_munmap does, with EINVAL), and a value no C caller can
 * pass at all (fractional, NaN, infinite) is refused with EINVAL, the errno Linux gives arguments
 * out of their domain. These are checks on the caller's input, never assertions.
 *
 * Order: such a value is refused before any check the kernel itself makes, the fd's included.
 * The kernel's order (ksys_pwrite64: pos < 0, then fdget's EBADF, then vfs_write's FMODE_WRITE,
 * then rw_verify_area on the count) is an order among values a register can hold; a NaN, an
 * infinity or 0.5 never reaches it, since no system call can be made with one. The nearest a C
 * caller comes is the marshalling of the arguments, which happens before the kernel is entered,
 * so every API call checks abiInts first: pwrite(badfd, NaN, 0) is EINVAL, pwrite(badfd, -1, 0)
 * (a register value, huge as a size_t) is EBADF as in Linux. The fuzzer's shadow (src/fuzz/expect.ts)
 * expects the same.
 */

/** Are all the arguments whole numbers (what a register can hold)? */
export function abiInts(a: number, b = 0, c = 0, d = 0): boolean {
  return Number.isInteger(a) && Number.isInteger(b) && Number.isInteger(c) && Number.isInteger(d);
}

/** A length as the kernel's size_t sees it: negative values wrap to 2^64 + x (above any limit). */
export function abiSizeT(x: number): number {
  return x < 0 ? 2 ** 64 + x : x;
}

/** MAX_RW_COUNT (include/linux/fs.h, 6.1 and 6.18): INT_MAX & PAGE_MASK, the most one read or write moves. */
export const MAX_RW_COUNT = 0x7ffff000;
