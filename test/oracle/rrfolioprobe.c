// daxsim oracle probe: which folios does iozone -B's sequence (rereadprobe.c) leave in the page
// cache, and what does the readahead window size do to them? Same sequence as rereadprobe.c: a file
// sized by pwrite(2) of its last 4 KiB record (the rest sparse), two MAP_SHARED write passes (store
// every 4 KiB record, msync MS_SYNC, munmap), two MAP_PRIVATE read passes (fsync, read(2) of one
// record, copy every record out of the mapping, msync, munmap), mapped at a 2 MiB-aligned address
// plus SKEW bytes. After each pass, while the whole file is still mapped, it walks
// /proc/self/pagemap (the PFN of every page) and /proc/kpageflags (KPF_COMPOUND_HEAD bit 15,
// KPF_COMPOUND_TAIL bit 16) over the mapping and prints, per pass, the faults (minflt+majflt),
// the folios in file order run-length encoded as "COUNTxoORDER" (e.g. "2048xo0 512xo2"), the
// pages mapped, and smaps FilePmdMapped. It also prints the backing device's read_ahead_kb
// and max_sectors_kb (/sys/dev/block/MAJ:MIN/queue; -1 for tmpfs), which decide the readahead
// windows, hence the folio orders.
// Needs root (PFNs in pagemap, /proc/kpageflags).
// Build and run (ext4 on the host's /dev/vda at read_ahead_kb 8192, the host's default, and 128;
// then tmpfs); run twice, identical both times:
//   gcc -O2 -o /tmp/rrfolioprobe test/oracle/rrfolioprobe.c && mkdir -p /tmp/rr
//   for ra in 8192 128; do echo $ra > /sys/block/vda/queue/read_ahead_kb
//     for kb in 64 131072; do for s in 0 4096; do /tmp/rrfolioprobe /tmp/rr $kb 2 $s ext4; done; done; done
//   echo 8192 > /sys/block/vda/queue/read_ahead_kb
//   for kb in 64 131072; do for s in 0 4096; do /tmp/rrfolioprobe /dev/shm $kb 2 $s tmpfs; done; done
// What it showed: at 8192 the sparse 128 MiB ext4 file ends up in 2048xo0 512xo2 128xo4 32xo6
// 8xo8 43xo9 512xo0 after every pass (readahead's folio orders; the 43 2 MiB folios PMD-mapped at
// skew 0, FilePmdMapped 88064), at 128 in 32xo0 8xo2 2xo4 1020xo5 32xo0; tmpfs holds order-0 pages.
// Output: linux-6.18-host-reread-folios.jsonl (one line per rep and pass).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#define REC 4096
static long flt(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
static char *at;
static char rec[REC] __attribute__((aligned(4096)));
static const char *kernel, *fsname;
static int rep, pagemap_fd, kpf_fd;
static size_t skew;
static long ra_kb = -1, max_sectors_kb = -1;

static long smaps_field(void *addr, const char *field) {
  FILE *f = fopen("/proc/self/smaps", "r"); char line[512]; int in = 0; long v = -1;
  unsigned long a = (unsigned long)addr;
  while (fgets(line, sizeof line, f)) {
    unsigned long s, e;
    if (sscanf(line, "%lx-%lx", &s, &e) == 2 && strchr(line, '-') == line + strspn(line, "0123456789abcdef")) { in = (a >= s && a < e); continue; }
    if (in && strncmp(line, field, strlen(field)) == 0) { sscanf(line + strlen(field) + 1, "%ld", &v); break; }
  }
  fclose(f); return v;
}

static long sysfs_long(const char *path) {
  FILE *f = fopen(path, "r"); long v = -1;
  if (!f) return -1;
  if (fscanf(f, "%ld", &v) != 1) v = -1;
  fclose(f); return v;
}

// Folios behind [p, p + bytes), in file order, run-length encoded by order, into out; an
// unmapped page shows as "unmapped". A folio is a compound head followed by its tails.
static void folios(char *p, size_t bytes, char *out, size_t outlen, long *mapped) {
  size_t n = bytes / REC;
  uint64_t *pm = malloc(n * 8);
  long *sizes = malloc((n + 1) * sizeof(long)); // folio sizes in pages, 0 for an unmapped page
  if (pread(pagemap_fd, pm, n * 8, ((unsigned long)p / REC) * 8) != (ssize_t)(n * 8)) { perror("pagemap"); exit(1); }
  size_t nf = 0; *mapped = 0;
  for (size_t i = 0; i < n; i++) {
    if (!((pm[i] >> 63) & 1)) { sizes[nf++] = 0; continue; }
    (*mapped)++;
    uint64_t pfn = pm[i] & ((1ULL << 55) - 1), fl = 0;
    if (pread(kpf_fd, &fl, 8, pfn * 8) != 8) { perror("kpageflags"); exit(1); }
    int tail = (fl >> 16) & 1;
    if (tail && nf > 0 && sizes[nf - 1] > 0) sizes[nf - 1]++;
    else sizes[nf++] = 1;
  }
  size_t used = 0; out[0] = 0;
  for (size_t i = 0; i < nf;) {
    size_t j = i;
    while (j < nf && sizes[j] == sizes[i]) j++;
    if (sizes[i] == 0) used += snprintf(out + used, outlen - used, "%s%zuxunmapped", used ? " " : "", j - i);
    else {
      int order = 0; while ((1L << order) < sizes[i]) order++;
      // A run of pages that is not a power of two is reported as its page count.
      if ((1L << order) == sizes[i]) used += snprintf(out + used, outlen - used, "%s%zuxo%d", used ? " " : "", j - i, order);
      else used += snprintf(out + used, outlen - used, "%s%zux%ldpages", used ? " " : "", j - i, sizes[i]);
    }
    i = j;
  }
  free(pm); free(sizes);
}

static void emit(const char *pass, char *p, size_t bytes, long faults) {
  static char layout[65536]; long mapped;
  folios(p, bytes, layout, sizeof layout, &mapped);
  printf("{\"kernel\":\"%s\",\"fs\":\"%s\",\"read_ahead_kb\":%ld,\"max_sectors_kb\":%ld,\"rep\":%d,\"file_kb\":%zu,\"va_skew\":%zu,"
         "\"pass\":\"%s\",\"faults\":%ld,\"pages_mapped\":%ld,\"file_pmd_mapped_kb\":%ld,\"folios\":\"%s\"}\n",
         kernel, fsname, ra_kb, max_sectors_kb, rep, bytes / 1024, skew, pass, faults, mapped, smaps_field(p, "FilePmdMapped:"), layout);
  fflush(stdout);
}

static char *map(int fd, size_t bytes, int prot, int flags) {
  char *p = mmap(at, bytes, prot, flags | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s DIR SIZE_KB REPS [SKEW_BYTES] [FSNAME]\n", argv[0]); return 2; }
  static struct utsname u; uname(&u); kernel = u.release;
  size_t bytes = (size_t)atol(argv[2]) * 1024;
  int reps = atoi(argv[3]);
  skew = argc > 4 ? (size_t)atol(argv[4]) : 0;
  fsname = argc > 5 ? argv[5] : argv[1];
  pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
  kpf_fd = open("/proc/kpageflags", O_RDONLY);
  if (pagemap_fd < 0 || kpf_fd < 0) { perror("open pagemap/kpageflags"); return 1; }
  struct stat st;
  if (stat(argv[1], &st) != 0) { perror("stat"); return 1; }
  char q[256];
  snprintf(q, sizeof q, "/sys/dev/block/%u:%u/queue/read_ahead_kb", major(st.st_dev), minor(st.st_dev)); ra_kb = sysfs_long(q);
  snprintf(q, sizeof q, "/sys/dev/block/%u:%u/queue/max_sectors_kb", major(st.st_dev), minor(st.st_dev)); max_sectors_kb = sysfs_long(q);
  char *reserve = mmap(NULL, bytes + (4 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserve == MAP_FAILED) { perror("mmap reserve"); return 1; }
  at = (char *)((((unsigned long)reserve + (2 << 20) - 1) & ~((2UL << 20) - 1)) + skew);
  char fn[4096]; snprintf(fn, sizeof fn, "%s/rrfolioprobe.dat", argv[1]);
  for (rep = 0; rep < reps; rep++) {
    for (int j = 0; j < 2; j++) {
      int fd = open(fn, O_RDWR | O_CREAT | (j == 0 ? O_TRUNC : 0), 0644);
      if (fd < 0) { perror("open"); return 1; }
      if (pwrite(fd, rec, REC, bytes - REC) != REC) { perror("pwrite"); return 1; }
      char *p = map(fd, bytes, PROT_READ | PROT_WRITE, MAP_SHARED);
      fsync(fd);
      memset(rec, 0xa5, REC);
      long f0 = flt();
      for (size_t o = 0; o < bytes; o += REC) memcpy(p + o, rec, REC);
      long f1 = flt();
      emit(j == 0 ? "write" : "rewrite", p, bytes, f1 - f0);
      msync(p, bytes, MS_SYNC);
      munmap(p, bytes);
      close(fd);
    }
    for (int j = 0; j < 2; j++) {
      int fd = open(fn, O_RDONLY);
      if (fd < 0) { perror("open"); return 1; }
      char *p = map(fd, bytes, PROT_READ, MAP_PRIVATE);
      fsync(fd);
      if (read(fd, rec, REC) != REC) { perror("read"); return 1; }
      long f0 = flt();
      for (size_t o = 0; o < bytes; o += REC) memcpy(rec, p + o, REC);
      long f1 = flt();
      emit(j == 0 ? "read" : "reread", p, bytes, f1 - f0);
      msync(p, bytes, MS_SYNC);
      munmap(p, bytes);
      close(fd);
    }
  }
  unlink(fn);
  return 0;
}
