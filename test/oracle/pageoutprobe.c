// daxsim oracle probe: MADV_PAGEOUT on a 16 MiB MAP_SHARED file mapping (4 KiB pwrites, fsync),
// after a read pass (clean) or a write pass (dirty), then a read pass: prints the read pass's
// minflt/majflt as JSON lines. Run on ext4 (read_ahead_kb 8192 on the measuring host) and tmpfs.
// Build and run: gcc -O2 -o pageoutprobe pageoutprobe.c && ./pageoutprobe DIR FSNAME
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s DIR FSNAME\n", argv[0]); return 2; }
  for (int dirty = 0; dirty < 2; dirty++) {
    size_t len = 16 << 20; char fn[256]; snprintf(fn, sizeof fn, "%s/po.dat", argv[1]);
    int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644); static char b[4096]; memset(b, 5, sizeof b);
    for (size_t o = 0; o < len; o += 4096) if (pwrite(fd, b, 4096, o) != 4096) { perror("pwrite"); return 1; }
    fsync(fd);
    char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
    char *p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    volatile unsigned long s = 0;
    for (size_t o = 0; o < len; o += 4096) { if (dirty) p[o] = 6; else s += p[o]; }
    int rc = madvise(p, len, MADV_PAGEOUT);
    struct rusage u0, u1; getrusage(RUSAGE_SELF, &u0);
    for (size_t o = 0; o < len; o += 4096) s += p[o];
    getrusage(RUSAGE_SELF, &u1);
    printf("{\"fs\":\"%s\",\"dirty\":%d,\"madvise\":%d,\"minflt\":%ld,\"majflt\":%ld,\"byte\":%d}\n", argv[2], dirty, rc,
           u1.ru_minflt - u0.ru_minflt, u1.ru_majflt - u0.ru_majflt, p[0]);
    munmap(p, len); munmap(r, len + (8 << 20)); close(fd); unlink(fn);
  }
  return 0;
}
