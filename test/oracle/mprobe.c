// daxsim oracle probe: MAP_POPULATE, MADV_DONTNEED and mprotect on a cached 128 MiB file (written
// with 4 KiB pwrites and fsynced), on the filesystem of DIR. Prints, as JSON lines, the getrusage
// minflt/majflt deltas of each step: mmap(MAP_POPULATE) itself, a read pass after it, a read pass
// after MADV_DONTNEED, a write pass on a fresh MAP_SHARED read-write mapping, a write pass and a
// read pass after mprotect(PROT_READ) then mprotect(PROT_READ|PROT_WRITE), and whether a load
// after mprotect(PROT_NONE) is refused (SIGSEGV).
// Build and run: gcc -O2 -o mprobe mprobe.c && ./mprobe DIR FSNAME
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
static const char *fsname;
static sigjmp_buf jb;
static void onsegv(int s) { (void)s; siglongjmp(jb, 1); }
static long F(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt * 1000000L + r.ru_majflt; }
static void out(const char *step, long d) {
  struct utsname u; uname(&u);
  printf("{\"kernel\":\"%s\",\"fs\":\"%s\",\"step\":\"%s\",\"minflt\":%ld,\"majflt\":%ld}\n", u.release, fsname, step, d / 1000000, d % 1000000);
}
static void touch(char *p, size_t len, int wr, const char *step) {
  volatile unsigned long s = 0; long f0 = F();
  for (size_t o = 0; o < len; o += 4096) { if (wr) p[o] = 1; else s += p[o]; }
  out(step, F() - f0);
}
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s DIR FSNAME\n", argv[0]); return 2; }
  fsname = argv[2];
  char fn[4096]; snprintf(fn, sizeof fn, "%s/mprobe.dat", argv[1]);
  size_t len = 128 << 20;
  int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
  static char pg[4096]; memset(pg, 7, sizeof pg);
  for (size_t o = 0; o < len; o += 4096) if (pwrite(fd, pg, 4096, o) != 4096) { perror("pwrite"); return 1; }
  fsync(fd);
  char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
  long f0 = F();
  char *p = mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0);
  out("mmap-populate", F() - f0);
  touch(p, len, 0, "read-after-populate");
  madvise(p, len, MADV_DONTNEED);
  touch(p, len, 0, "read-after-dontneed");
  munmap(p, len);
  p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  touch(p, len, 1, "write");
  mprotect(p, len, PROT_READ);
  mprotect(p, len, PROT_READ | PROT_WRITE);
  touch(p, len, 1, "write-after-mprotect-ro-rw");
  touch(p, len, 0, "read-after-mprotect-ro-rw");
  mprotect(p, len, PROT_NONE);
  signal(SIGSEGV, onsegv);
  int segv = 0;
  if (sigsetjmp(jb, 1)) segv = 1; else { volatile char c = p[0]; (void)c; }
  out(segv ? "load-after-prot-none-SIGSEGV" : "load-after-prot-none-ok", 0);
  munmap(p, len); close(fd); unlink(fn);
  return 0;
}
