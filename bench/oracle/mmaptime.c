// The real-kernel side of `npm run bench`: the same workload the simulator is timed on, run by the
// host kernel. Writes FILE (MiB mebibytes, one pwrite(2) per 4 KiB page, then fsync), then RUNS
// times maps it afresh MAP_SHARED and touches one byte per 4 KiB page (read, or write with 1),
// printing one JSON line per run with the faults (getrusage minflt+majflt) and the wall time.
// Like ../shared/oracle/mmapread.c, which measured the figures in the oracle README.
// Build: cc -O2 -o mmaptime mmaptime.c   Run: ./mmaptime FILE MiB RUNS WRITE
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static long flt(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s FILE MiB RUNS WRITE\n", argv[0]); return 2; }
  const char *fn = argv[1]; size_t len = strtoul(argv[2], 0, 0) << 20; int runs = atoi(argv[3]), wr = atoi(argv[4]);
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { perror("open"); return 1; }
  char page[4096];
  for (size_t o = 0; o < len; o += 4096) { memset(page, (int)((o / 4096) | 1), sizeof page); if (pwrite(fd, page, 4096, o) != 4096) { perror("pwrite"); return 1; } }
  fsync(fd);
  for (int r = 0; r < runs; r++) {
    char *p = mmap(NULL, len, PROT_READ | (wr ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    volatile unsigned long s = 0;
    long f0 = flt(); double t0 = now();
    for (size_t o = 0; o < len; o += 4096) { if (wr) p[o] = 1; else s += p[o]; }
    double t1 = now(); long f1 = flt();
    printf("{\"op\":\"%s\",\"bytes\":%zu,\"faults\":%ld,\"wall_us\":%.1f}\n", wr ? "write" : "read", len, f1 - f0, (t1 - t0) * 1e6);
    munmap(p, len);
  }
  close(fd); unlink(fn);
  return 0;
}
