// daxsim oracle probe: faults of touching 128 MiB of private anonymous memory one byte per 4 KiB
// page, with and without MADV_HUGEPAGE (transparent_hugepage/enabled was "madvise" on the
// measuring host): read, write, and write after a read pass. Prints JSON lines.
// Build and run: gcc -O2 -o anonprobe anonprobe.c && ./anonprobe
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
static long F(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt * 1000000L + r.ru_majflt; }
int main(void) {
  size_t len = 128 << 20;
  struct utsname u; uname(&u);
  for (int adv = 0; adv < 2; adv++) for (int op = 0; op < 3; op++) {
    char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
    char *p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    if (adv) madvise(p, len, MADV_HUGEPAGE);
    volatile unsigned long s = 0;
    if (op == 2) for (size_t o = 0; o < len; o += 4096) s += p[o];
    long f0 = F();
    for (size_t o = 0; o < len; o += 4096) { if (op) p[o] = 1; else s += p[o]; }
    long d = F() - f0;
    printf("{\"kernel\":\"%s\",\"madvise\":\"%s\",\"op\":\"%s\",\"minflt\":%ld,\"majflt\":%ld}\n", u.release,
           adv ? "MADV_HUGEPAGE" : "none", op == 0 ? "read" : op == 1 ? "write" : "read-then-write", d / 1000000, d % 1000000);
    munmap(r, len + (8 << 20));
  }
  return 0;
}
