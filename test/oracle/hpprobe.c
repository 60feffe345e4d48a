// daxsim oracle probe: MADV_HUGEPAGE on a page-cache mapping (Linux 6.18 ext4; read_ahead_kb 8192,
// THP mode madvise on the measuring host). A file written with 4 KiB pwrites, fsynced and dropped
// from the cache (POSIX_FADV_DONTNEED) is mapped MAP_SHARED at a 2 MiB-aligned address, madvised
// MADV_HUGEPAGE (and MADV_RANDOM for one row) and read one byte per page. Prints the faults and
// smaps FilePmdMapped as JSON lines.
// Build and run: gcc -O2 -o hpprobe hpprobe.c && ./hpprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
static void run(const char *dir, size_t len, int rnd) {
  char fn[4096]; snprintf(fn, sizeof fn, "%s/hpprobe.dat", dir);
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644); static char pg[4096]; memset(pg, 0x5a, sizeof pg);
  for (size_t o = 0; o < len; o += 4096) if (pwrite(fd, pg, 4096, o) != 4096) { perror("pwrite"); exit(1); }
  fsync(fd); posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
  char *p = mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  madvise(p, len, MADV_HUGEPAGE); if (rnd) madvise(p, len, MADV_RANDOM);
  volatile unsigned long s = 0; struct rusage u0, u1; getrusage(RUSAGE_SELF, &u0);
  for (size_t o = 0; o < len; o += 4096) s += p[o];
  getrusage(RUSAGE_SELF, &u1);
  FILE *f = fopen("/proc/self/smaps", "r"); char line[256]; long pmd = -1; int in = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long s1, e1;
    if (sscanf(line, "%lx-%lx", &s1, &e1) == 2 && line[strspn(line, "0123456789abcdef")] == '-') { in = ((unsigned long)p >= s1 && (unsigned long)p < e1); continue; }
    if (in && !strncmp(line, "FilePmdMapped:", 14)) sscanf(line + 14, "%ld", &pmd);
  }
  fclose(f);
  struct utsname u; uname(&u);
  printf("{\"kernel\":\"%s\",\"file_bytes\":%zu,\"madvise\":\"%s\",\"minflt\":%ld,\"majflt\":%ld,\"file_pmd_mapped_kb\":%ld}\n", u.release, len,
         rnd ? "MADV_HUGEPAGE+MADV_RANDOM" : "MADV_HUGEPAGE", u1.ru_minflt - u0.ru_minflt, u1.ru_majflt - u0.ru_majflt, pmd);
  munmap(p, len); munmap(r, len + (8 << 20)); close(fd); unlink(fn);
}
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
  run(argv[1], 128 << 20, 0);
  run(argv[1], 128 << 20, 1);
  run(argv[1], 16 << 20, 0);
  return 0;
}
