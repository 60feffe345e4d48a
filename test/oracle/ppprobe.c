// daxsim oracle probe: private and shared mappings of large page-cache folios on Linux 6.18 ext4,
// and zapping part of them. A 16 MiB file written with W-byte pwrites (W-byte folios) and fsynced:
// a MAP_PRIVATE read-write mapping is read then written (COW) one byte per page; then a fresh
// MAP_SHARED read-only mapping is read, MADV_DONTNEED'd for 4 KiB at 1 MiB and read again, then
// 1 MiB of it at 5 MiB is unmapped and the rest read again. Prints each pass's faults, JSON lines.
// Build and run: gcc -O2 -o ppprobe ppprobe.c && ./ppprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
static long F(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
  char fn[4096]; snprintf(fn, sizeof fn, "%s/ppprobe.dat", argv[1]);
  const size_t len = 16 << 20; static char b[2 << 20]; memset(b, 3, sizeof b);
  const size_t ws[] = { 4096, 1 << 20, 2 << 20 };
  struct utsname u; uname(&u);
  for (int k = 0; k < 3; k++) {
    size_t w = ws[k];
    int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (size_t o = 0; o < len; o += w) if (pwrite(fd, b, w, o) != (ssize_t)w) { perror("pwrite"); return 1; }
    fsync(fd);
    char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
    volatile unsigned long s = 0; long f0;
    char *p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
    f0 = F(); for (size_t o = 0; o < len; o += 4096) s += p[o]; long pr = F() - f0;
    f0 = F(); for (size_t o = 0; o < len; o += 4096) p[o] = 1; long pw = F() - f0;
    munmap(p, len);
    p = mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    f0 = F(); for (size_t o = 0; o < len; o += 4096) s += p[o]; long rd = F() - f0;
    madvise(p + (1 << 20), 4096, MADV_DONTNEED);
    f0 = F(); for (size_t o = 0; o < len; o += 4096) s += p[o]; long dn = F() - f0;
    munmap(p + (5 << 20), 1 << 20);
    f0 = F(); for (size_t o = 0; o < len; o += 4096) if (o < (5u << 20) || o >= (6u << 20)) s += p[o]; long um = F() - f0;
    printf("{\"kernel\":\"%s\",\"write_bytes\":%zu,\"private_read\":%ld,\"private_write\":%ld,\"shared_read\":%ld,\"read_after_dontneed_4k\":%ld,\"read_after_partial_munmap\":%ld}\n",
           u.release, w, pr, pw, rd, dn, um);
    munmap(r, len + (8 << 20)); close(fd); unlink(fn);
  }
  return 0;
}
