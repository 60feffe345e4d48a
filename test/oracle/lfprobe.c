// daxsim oracle probe: faults through mappings of ext4 files whose page cache holds large folios.
// A file written with pwrite(2) of W bytes gets folios of W bytes (up to 2 MiB) on Linux 6.18 ext4;
// this prints, as JSON lines, the faults (getrusage minflt+majflt) that reading or writing one byte
// per 4 KiB page through a fresh MAP_SHARED or MAP_PRIVATE mapping takes.
// Build and run on the filesystem to probe:  gcc -O2 -o lfprobe lfprobe.c && ./lfprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
static long flt(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
static char *buf;
static void mkfile(const char *fn, size_t wsz, size_t len) {
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  for (size_t o = 0; o < len; o += wsz) { size_t n = len - o < wsz ? len - o : wsz; if (pwrite(fd, buf, n, o) != (ssize_t)n) { perror("pwrite"); exit(1); } }
  fsync(fd); close(fd);
}
// Map len bytes of fn at a 2 MiB-aligned address plus skew, touch every page, print the faults.
static void run(const char *what, const char *fn, size_t wsz, size_t len, size_t skew, int wr, int priv) {
  struct utsname u; uname(&u);
  int fd = open(fn, O_RDWR);
  char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *a = (char *)((((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1)) + skew);
  char *p = mmap(a, len, PROT_READ | (wr ? PROT_WRITE : 0), (priv ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  volatile unsigned long s = 0;
  long f0 = flt();
  for (size_t o = 0; o < len; o += 4096) { if (wr) p[o] = 1; else s += p[o]; }
  long f1 = flt();
  printf("{\"kernel\":\"%s\",\"scenario\":\"%s\",\"write_bytes\":%zu,\"file_bytes\":%zu,\"va_skew\":%zu,\"op\":\"%s\",\"map\":\"%s\",\"faults\":%ld}\n",
         u.release, what, wsz, len, skew, wr ? "write" : "read", priv ? "private" : "shared", f1 - f0);
  munmap(p, len); munmap(r, len + (8 << 20)); close(fd);
}
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
  char fn[4096]; snprintf(fn, sizeof fn, "%s/lfprobe.dat", argv[1]);
  buf = aligned_alloc(4096, 2 << 20); memset(buf, 0x5a, 2 << 20);
  const size_t M = 1 << 20, L = 128 << 20;
  const size_t w[] = { 4096, 16384, 65536, 262144, M, 2 * M };
  for (int i = 0; i < 6; i++) {
    mkfile(fn, w[i], L);
    run("seq-read", fn, w[i], L, 0, 0, 0);
    run("seq-write", fn, w[i], L, 0, 1, 0);
  }
  mkfile(fn, M, L);
  run("seq-read-skew4k", fn, M, L, 4096, 0, 0);
  run("seq-write-skew4k", fn, M, L, 4096, 1, 0);
  run("private-read", fn, M, L, 0, 0, 1);
  run("private-write", fn, M, L, 0, 1, 1);
  mkfile(fn, M, 16 * M);
  run("small-read", fn, M, 16 * M, 0, 0, 0);
  run("small-write", fn, M, 16 * M, 0, 1, 0);
  mkfile(fn, M, 16 * M - 4096);
  run("short-tail-read", fn, M, 16 * M - 4096, 0, 0, 0);
  run("short-tail-write", fn, M, 16 * M - 4096, 0, 1, 0);
  mkfile(fn, 2 * M, 15 * M);
  run("odd-2m-read", fn, 2 * M, 15 * M, 0, 0, 0);
  run("odd-2m-write", fn, 2 * M, 15 * M, 0, 1, 0);
  unlink(fn);
  return 0;
}
