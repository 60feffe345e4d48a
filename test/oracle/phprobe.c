// daxsim oracle probe: punch hole and truncate inside large page-cache folios (Linux 6.18 ext4,
// read_ahead_kb 8192 on the measuring host). A 16 MiB file written with W-byte pwrites (W-byte
// folios) and fsynced is read through a 2 MiB-aligned MAP_SHARED mapping; then either
// fallocate(PUNCH_HOLE|KEEP_SIZE) of [2.5 MiB, 3 MiB) or ftruncate to 3 MiB + 5000 bytes; then the
// file (up to its size) is read again, twice. Prints the faults of each pass and two bytes, as
// JSON lines.
// Build and run: gcc -O2 -o phprobe phprobe.c && ./phprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/falloc.h>
static long F(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
  char fn[4096]; snprintf(fn, sizeof fn, "%s/phprobe.dat", argv[1]);
  const size_t len = 16 << 20; static char b[2 << 20]; memset(b, 3, sizeof b);
  const size_t ws[] = { 4096, 1 << 20, 2 << 20 };
  struct utsname u; uname(&u);
  for (int op = 0; op < 2; op++) for (int k = 0; k < 3; k++) {
    size_t w = ws[k];
    int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (size_t o = 0; o < len; o += w) if (pwrite(fd, b, w, o) != (ssize_t)w) { perror("pwrite"); return 1; }
    fsync(fd);
    char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
    char *p = mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    volatile unsigned long s = 0; long f0 = F();
    for (size_t o = 0; o < len; o += 4096) s += p[o];
    long read1 = F() - f0;
    size_t end = len; int b1, b2;
    if (op == 0) {
      if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (2 << 20) + (1 << 19), 1 << 19)) { perror("fallocate"); return 1; }
    } else {
      end = (3 << 20) + 5000;
      if (ftruncate(fd, end)) { perror("ftruncate"); return 1; }
    }
    f0 = F(); for (size_t o = 0; o < end; o += 4096) s += p[o]; long read2 = F() - f0;
    f0 = F(); for (size_t o = 0; o < end; o += 4096) s += p[o]; long read3 = F() - f0;
    b1 = p[(2 << 20) + (1 << 19) + 5]; b2 = p[(3 << 20) + 5];
    printf("{\"kernel\":\"%s\",\"op\":\"%s\",\"write_bytes\":%zu,\"read\":%ld,\"reread\":%ld,\"again\":%ld,\"byte_2_5MiB\":%d,\"byte_3MiB\":%d}\n",
           u.release, op ? "truncate" : "punch", w, read1, read2, read3, b1, b2);
    munmap(p, len); munmap(r, len + (8 << 20)); close(fd); unlink(fn);
  }
  return 0;
}
