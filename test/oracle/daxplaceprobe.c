// daxsim guest oracle probe: where ext4's mballoc puts a 128 MiB file on a fresh ext4 -o dax (the
// Linux 6.1 guest of ../shared/oracle/guest-harness), and what that does to DAX faults. Each
// scenario makes a fresh filesystem (umount, mkfs.ext4 -q -F /dev/pmem0, mount -o dax), creates
// the file one way, and prints one JSON line: the faults (getrusage minflt+majflt) of a one-byte-
// per-page pass through a MAP_SHARED mapping at a 2 MiB-aligned address (VA 2M+4K for
// sparse-128M-pte-write), st_blocks, and pmd_chunks: how many 2 MiB file chunks lie in one extent
// starting on a 2 MiB-aligned block (FIEMAP; its extent list as "logical+len@physical" blocks).
// Scenarios: pwrite-128M-read (1 MiB pwrites + fsync, then read), fallocate-128M (no pass),
// sparse-128M-pte-write and sparse-128M-pmd-write (ftruncate, then write every page),
// fallocate-pwrite-128M-read (fallocate, 1 MiB pwrites, fsync, read).
// Run: copy the harness to a writable folder, this file to its src/probe.c, then
//   ORACLE_WORK=/tmp/ow2 REPS=2 FSLIST=ext4-dax ACCEL=tcg bash run.sh
// test/oracle/linux-6.1-guest-dax-place.jsonl holds rep 1 of two boots (rep 2 was identical).
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#define PG 4096UL
#define MiB (1024UL * 1024UL)
#define PMD (2 * MiB)
#define LEN (128 * MiB)
static const char *g_dir, *g_fs;
static char g_kver[128];
static int g_rep;

static void fresh(void) {
  char c[512];
  snprintf(c, sizeof c, "umount %s && mkfs.ext4 -q -F /dev/pmem0 >/dev/null 2>&1 && mount -t ext4 -o dax /dev/pmem0 %s", g_dir, g_dir);
  if (system(c)) { fprintf(stderr, "fresh fs failed\n"); exit(1); }
}
static long faults(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
static long pass(char *a, int wr) {
  volatile unsigned long s = 0;
  long f0 = faults();
  for (unsigned long o = 0; o < LEN; o += PG) { if (wr) a[o] = 1; else s += a[o]; }
  return faults() - f0;
}
static void out(const char *name, int fd, long f) {
  static struct { struct fiemap f; struct fiemap_extent e[512]; } fm;
  memset(&fm, 0, sizeof fm);
  fm.f.fm_length = ~0ULL; fm.f.fm_extent_count = 512;
  ioctl(fd, FS_IOC_FIEMAP, &fm);
  int pmd = 0;
  for (unsigned long lo = 0; lo < LEN; lo += PMD)
    for (unsigned i = 0; i < fm.f.fm_mapped_extents; i++) {
      struct fiemap_extent *e = &fm.e[i];
      if (e->fe_logical <= lo && e->fe_logical + e->fe_length >= lo + PMD && (e->fe_physical + (lo - e->fe_logical)) % PMD == 0) pmd++;
    }
  struct stat st; fstat(fd, &st);
  printf("{\"kernel\":\"%s\",\"fs\":\"%s\",\"rep\":%d,\"scenario\":\"%s\",\"faults\":%ld,\"pmd_chunks\":%d,\"st_blocks\":%ld,\"extents\":\"",
         g_kver, g_fs, g_rep, name, f, pmd, (long)st.st_blocks);
  for (unsigned i = 0; i < fm.f.fm_mapped_extents && i < 40; i++) {
    struct fiemap_extent *e = &fm.e[i];
    printf("%s%llu+%llu@%llu%s", i ? " " : "", e->fe_logical / PG, e->fe_length / PG, e->fe_physical / PG, (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? "u" : "");
  }
  printf("\"}\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  struct utsname u; uname(&u); snprintf(g_kver, sizeof g_kver, "%s", u.release);
  if (argc >= 2 && !strcmp(argv[1], "meta")) { printf("{\"scenario\":\"meta\"}\n"); return 0; }
  if (argc < 5 || strcmp(argv[1], "all")) { fprintf(stderr, "usage: %s meta | all FS DIR REPS [WHICH]\n", argv[0]); return 2; }
  g_fs = argv[2]; g_dir = argv[3];
  static char b[MiB]; memset(b, 0x5a, sizeof b);
  char fn[512]; snprintf(fn, sizeof fn, "%s/place.dat", g_dir);
  for (g_rep = 1; g_rep <= atoi(argv[4]); g_rep++)
    for (int s = 0; s < 5; s++) {
      fresh();
      int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
      char *r = mmap(NULL, LEN + 4 * PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      char *base = (char *)(((unsigned long)r + PMD - 1) & ~(PMD - 1));
      char *a;
      if (s == 0 || s == 4) {
        if (s == 4 && fallocate(fd, 0, 0, LEN)) perror("fallocate");
        for (unsigned long o = 0; o < LEN; o += MiB) if (pwrite(fd, b, MiB, o) != (ssize_t)MiB) perror("pwrite");
        fsync(fd);
        a = mmap(base, LEN, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
        out(s == 0 ? "pwrite-128M-read" : "fallocate-pwrite-128M-read", fd, pass(a, 0));
      } else if (s == 1) {
        if (fallocate(fd, 0, 0, LEN)) perror("fallocate");
        out("fallocate-128M", fd, 0);
      } else {
        if (ftruncate(fd, LEN)) perror("ftruncate");
        a = mmap(base + (s == 2 ? PG : 0), LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
        out(s == 2 ? "sparse-128M-pte-write" : "sparse-128M-pmd-write", fd, pass(a, 1));
      }
      munmap(r, LEN + 4 * PMD);
      close(fd);
      unlink(fn);
    }
  return 0;
}
