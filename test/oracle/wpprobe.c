// daxsim oracle probe: write faults on a cached 128 MiB file written with W-byte pwrites (so its
// folios are W bytes, up to 2 MiB, on Linux 6.18 ext4), through a 2 MiB-aligned MAP_SHARED
// read-write mapping: a first write pass, a rewrite after fsync (writeback write-protects the
// mappings), a read pass, then on a fresh mapping a read pass followed by a write pass. Prints the
// minflt+majflt of each pass and the smaps FilePmdMapped of the mapping after the first write, as
// JSON lines.
// Build and run: gcc -O2 -o wpprobe wpprobe.c && ./wpprobe DIR
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
static long F(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
static long smapsField(void *addr, const char *field) {
  FILE *f = fopen("/proc/self/smaps", "r"); char line[512]; int in = 0; long v = -1;
  unsigned long a = (unsigned long)addr;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (sscanf(line, "%lx-%lx", &s, &e) == 2 && strchr(line, '-') == line + strspn(line, "0123456789abcdef")) { in = (a >= s && a < e); continue; }
    if (in && strncmp(line, field, strlen(field)) == 0) { sscanf(line + strlen(field) + 1, "%ld", &v); break; }
  }
  fclose(f); return v;
}
int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s DIR\n", argv[0]); return 2; }
  char fn[4096]; snprintf(fn, sizeof fn, "%s/wpprobe.dat", argv[1]);
  size_t len = 128 << 20; static char b[2 << 20]; memset(b, 3, sizeof b);
  struct utsname u; uname(&u);
  const size_t ws[] = { 4096, 65536, 1 << 20, 2 << 20 };
  for (int k = 0; k < 4; k++) {
    size_t w = ws[k];
    int fd = open(fn, O_RDWR | O_CREAT | O_TRUNC, 0644);
    for (size_t o = 0; o < len; o += w) if (pwrite(fd, b, w, o) != (ssize_t)w) { perror("pwrite"); return 1; }
    fsync(fd);
    char *r = mmap(NULL, len + (8 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    char *a = (char *)(((unsigned long)r + (2 << 20) - 1) & ~((2UL << 20) - 1));
    char *p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    volatile unsigned long s = 0; long f0;
    f0 = F(); for (size_t o = 0; o < len; o += 4096) p[o] = 1; long write1 = F() - f0;
    long pmdkb = smapsField(p, "FilePmdMapped:");
    fsync(fd);
    f0 = F(); for (size_t o = 0; o < len; o += 4096) p[o] = 2; long rewrite = F() - f0;
    f0 = F(); for (size_t o = 0; o < len; o += 4096) s += p[o]; long read1 = F() - f0;
    munmap(p, len);
    p = mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
    f0 = F(); for (size_t o = 0; o < len; o += 4096) s += p[o]; long fresh = F() - f0;
    f0 = F(); for (size_t o = 0; o < len; o += 4096) p[o] = 3; long thenw = F() - f0;
    printf("{\"kernel\":\"%s\",\"write_bytes\":%zu,\"write\":%ld,\"file_pmd_mapped_kb\":%ld,\"rewrite_after_fsync\":%ld,\"read\":%ld,\"fresh_read\":%ld,\"write_after_fresh_read\":%ld}\n",
           u.release, w, write1, pmdkb, rewrite, read1, fresh, thenw);
    munmap(p, len); munmap(r, len + (8 << 20)); close(fd); unlink(fn);
  }
  return 0;
}
