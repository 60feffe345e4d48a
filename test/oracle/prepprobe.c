// daxsim oracle probe: how a 64 MiB file was made decides the faults of touching it through a
// mapping. Three ways (ftruncate: sparse; fallocate; 1 MiB pwrites), on tmpfs and ext4; read or
// write one byte per 4 KiB page through a fresh MAP_SHARED (or MAP_PRIVATE, writes) mapping at a
// 2 MiB-aligned address; prints the getrusage deltas and st_blocks after, as JSON lines. The ext4
// readahead window matters to the sparse and fallocated reads (read_ahead_kb 8192 on the
// measuring host, max_sectors_kb 4096).
// Build and run: gcc -O2 -o prepprobe prepprobe.c && ./prepprobe DIR FSNAME
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
static const char *prepname[] = { "ftruncate", "fallocate", "pwrite-1MiB" };
static void one(const char *dir, const char *fs, int prep, int wr, int priv) {
  char fn[4096]; snprintf(fn, sizeof fn, "%s/prepprobe.dat", dir);
  size_t len = 64 << 20;
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (prep == 0) { if (ftruncate(fd, len)) { perror("ftruncate"); exit(1); } }
  else if (prep == 1) { if (fallocate(fd, 0, 0, len)) { perror("fallocate"); exit(1); } }
  else { static char b[1 << 20]; memset(b, 1, sizeof b); for (size_t o = 0; o < len; o += sizeof b) if (pwrite(fd, b, sizeof b, o) != (ssize_t)sizeof b) { perror("pwrite"); exit(1); } }
  char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
  char *p = mmap(a, len, PROT_READ | (wr ? PROT_WRITE : 0), (priv ? MAP_PRIVATE : MAP_SHARED) | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  volatile unsigned long s = 0;
  struct rusage u0, u1; getrusage(RUSAGE_SELF, &u0);
  for (size_t o = 0; o < len; o += 4096) { if (wr) p[o] = 1; else s += p[o]; }
  getrusage(RUSAGE_SELF, &u1);
  struct stat st; fstat(fd, &st);
  struct utsname u; uname(&u);
  printf("{\"kernel\":\"%s\",\"fs\":\"%s\",\"prep\":\"%s\",\"op\":\"%s\",\"map\":\"%s\",\"minflt\":%ld,\"majflt\":%ld,\"st_blocks_after\":%ld}\n",
         u.release, fs, prepname[prep], wr ? "write" : "read", priv ? "private" : "shared",
         u1.ru_minflt - u0.ru_minflt, u1.ru_majflt - u0.ru_majflt, (long)st.st_blocks);
  munmap(p, len); munmap(r, len + (8 << 20)); close(fd); unlink(fn);
}
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s DIR FSNAME\n", argv[0]); return 2; }
  for (int prep = 0; prep < 3; prep++) for (int wr = 0; wr < 2; wr++) one(argv[1], argv[2], prep, wr, 0);
  for (int prep = 0; prep < 3; prep++) one(argv[1], argv[2], prep, 1, 1);
  return 0;
}
