// daxsim oracle probe: large page-cache folios (W-byte, from W-byte pwrites of a 32 MiB file on
// Linux 6.18 ext4) seen through a 16 MiB MAP_SHARED read-write mapping whose file offset (OFF)
// and/or virtual address (2 MiB-aligned plus SKEW) is not congruent with the folios: a read pass,
// a write pass, and a write pass on a fresh mapping. Prints the faults as JSON lines.
// Build and run: gcc -O2 -o offprobe offprobe.c && ./offprobe DIR
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
static void run(const char *dir, size_t w, size_t off, size_t skew) {
  char fn[4096]; snprintf(fn, sizeof fn, "%s/offprobe.dat", dir);
  const size_t len = 32 << 20, mlen = 16 << 20; static char b[2 << 20]; memset(b, 3, sizeof b);
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  for (size_t o = 0; o < len; o += w) if (pwrite(fd, b, w, o) != (ssize_t)w) { perror("pwrite"); exit(1); }
  fsync(fd);
  char *r = mmap(NULL, mlen + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *a = (char *)((((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1)) + skew);
  char *p = mmap(a, mlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  volatile unsigned long s = 0; long f0;
  f0 = F(); for (size_t o = 0; o < mlen; o += 4096) s += p[o]; long rd = F() - f0;
  f0 = F(); for (size_t o = 0; o < mlen; o += 4096) p[o] = 1; long wr = F() - f0;
  munmap(p, mlen);
  p = mmap(a, mlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off);
  f0 = F(); for (size_t o = 0; o < mlen; o += 4096) p[o] = 1; long wr2 = F() - f0;
  struct utsname u; uname(&u);
  printf("{\"kernel\":\"%s\",\"write_bytes\":%zu,\"offset\":%zu,\"va_skew\":%zu,\"read\":%ld,\"write_after_read\":%ld,\"fresh_write\":%ld}\n",
         u.release, w, off, skew, rd, wr, wr2);
  munmap(p, mlen); munmap(r, mlen + (8 << 20)); close(fd); unlink(fn);
}
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
  run(argv[1], 2 << 20, 1 << 20, 0);
  run(argv[1], 2 << 20, 0, 1 << 20);
  run(argv[1], 2 << 20, 2 << 20, 0);
  run(argv[1], 1 << 20, 512 << 10, 0);
  run(argv[1], 2 << 20, 4096, 4096);
  return 0;
}
