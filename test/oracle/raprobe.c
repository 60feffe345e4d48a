// daxsim oracle probe: cold sequential reads on Linux 6.18 ext4, where readahead builds large
// folios. Writes a file with 4 KiB pwrites, fsyncs it, drops its pages with
// posix_fadvise(DONTNEED), then either maps it MAP_SHARED at a 2 MiB-aligned address (optionally
// madvise) and reads one byte per 4 KiB page, or first read(2)s the whole file in CHUNK-byte
// calls (readahead through the syscall path) and then reads it through the mapping; prints the
// getrusage minflt/majflt deltas of the mapped reads as JSON lines. The last rows write one byte
// per page instead, through a MAP_SHARED or MAP_PRIVATE mapping of the cold file. The device's max_sectors_kb
// matters to reads larger than the window (it was 4096 on the measuring host).
// The readahead window is the device's read_ahead_kb; the caller names it (RAKB) because it is set
// outside: echo RAKB > /sys/block/DEV/queue/read_ahead_kb (as root).
// Build and run: gcc -O2 -o raprobe raprobe.c && ./raprobe DIR RAKB
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
static void run(const char *dir, int rakb, size_t len, int adv, const char *advname, size_t chunk, const char *op) {
  int wr = op[0] != 'r', priv = op[0] == 'p';
  char fn[4096]; snprintf(fn, sizeof fn, "%s/raprobe.dat", dir);
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  static char page[4096]; memset(page, 0x5a, sizeof page);
  for (size_t o = 0; o < len; o += 4096) if (pwrite(fd, page, 4096, o) != 4096) { perror("pwrite"); exit(1); }
  fsync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (chunk) {
    static char buf[1 << 20];
    int rfd = open(fn, O_RDONLY);
    for (size_t o = 0; o < len; o += chunk) if (read(rfd, buf, chunk) <= 0) break;
    close(rfd);
  }
  char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
  char *p = mmap(a, len, PROT_READ | (wr ? PROT_WRITE : 0), (priv ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  if (adv) madvise(p, len, adv);
  volatile unsigned long s = 0;
  struct rusage u0, u1; getrusage(RUSAGE_SELF, &u0);
  for (size_t o = 0; o < len; o += 4096) { if (wr) p[o] = 1; else s += p[o]; }
  getrusage(RUSAGE_SELF, &u1);
  struct utsname u; uname(&u);
  printf("{\"kernel\":\"%s\",\"read_ahead_kb\":%d,\"file_bytes\":%zu,\"read_chunk_bytes\":%zu,\"madvise\":\"%s\",\"op\":\"%s\",\"minflt\":%ld,\"majflt\":%ld}\n",
         u.release, rakb, len, chunk, advname, op, u1.ru_minflt - u0.ru_minflt, u1.ru_majflt - u0.ru_majflt);
  munmap(p, len); munmap(r, len + (8 << 20)); close(fd); unlink(fn);
}
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s DIR RAKB\n", argv[0]); return 2; }
  int rakb = atoi(argv[2]);
  run(argv[1], rakb, 128 << 20, 0, "none", 0, "read");
  run(argv[1], rakb, 16 << 20, 0, "none", 0, "read");
  run(argv[1], rakb, 128 << 20, MADV_SEQUENTIAL, "MADV_SEQUENTIAL", 0, "read");
  run(argv[1], rakb, 128 << 20, MADV_RANDOM, "MADV_RANDOM", 0, "read");
  run(argv[1], rakb, 128 << 20, 0, "none", 4096, "read");
  run(argv[1], rakb, 128 << 20, 0, "none", 65536, "read");
  run(argv[1], rakb, 128 << 20, 0, "none", 1 << 20, "read");
  run(argv[1], rakb, 128 << 20, 0, "none", 0, "write-shared");
  run(argv[1], rakb, 16 << 20, 0, "none", 0, "write-shared");
  run(argv[1], rakb, 128 << 20, 0, "none", 0, "private-write");
  return 0;
}
