// daxsim oracle probe: does a second mmap read pass of the same file run faster than the first?
// It runs the sequence iozone -B uses for its write/re-write and read/re-read tests (as read from
// iozone 3.4xx's write_perf_test, read_perf_test and initfile; our own code, not iozone's):
//   write test, 2 passes: open (created empty on the first), size the file by writing its last
//     4 KiB record with write(2) (the rest stays sparse), mmap MAP_SHARED PROT_READ|PROT_WRITE,
//     fsync, store every 4 KiB record (timed), msync MS_SYNC, munmap, close;
//   read test, 2 passes: open, mmap MAP_PRIVATE PROT_READ, fsync, read(2) one 4 KiB record, seek
//     back, then (timed) copy every 4 KiB record out of the mapping into one 4 KiB buffer; msync
//     MS_SYNC, munmap, close (untimed).
// Each timed pass prints one JSON line: pass name, ns, KB/s, faults (getrusage minflt+majflt).
// skew puts the mapping at a 2 MiB-aligned address plus skew bytes (MAP_FIXED inside a reserved
// range), so fault-around windows and PMD eligibility are the same from pass to pass.
// With EVICT=1 the probe writes a 256 MiB buffer between the write test and the read test, so the
// read test starts with cold CPU caches (data, page tables, kernel code and data), as it would after
// other work; the rows then carry "evict":1.
// Build and run:  gcc -O2 -o rereadprobe rereadprobe.c && [EVICT=1] ./rereadprobe DIR SIZE_KB REPS [SKEW [FSNAME]]
// linux-6.18-host-reread.jsonl was measured with fault_around_bytes at its default (65536), tmpfs
// on /dev/shm (no huge pages) and ext4 on the host's /dev/vda, whose read_ahead_kb is 8192 and
// max_sectors_kb 4096: the readahead window decides the ext4 folio sizes, hence the fault counts
// (rrfolioprobe.c shows the folios; at read_ahead_kb 128 the same file takes 1094 / 1028 faults).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#define REC 4096
static long flt(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt + r.ru_majflt; }
static long long now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static char *reserve, *at, *big;
static char rec[REC] __attribute__((aligned(4096)));
static const char *kernel, *fsname;
static int rep, evict;
static size_t skew;

static void emit(const char *pass, size_t bytes, long long ns, long faults) {
  printf("{\"kernel\":\"%s\",\"fs\":\"%s\",\"rep\":%d,\"file_kb\":%zu,\"va_skew\":%zu,\"evict\":%d,\"pass\":\"%s\",\"ns\":%lld,\"kb_per_s\":%.0f,\"faults\":%ld}\n",
         kernel, fsname, rep, bytes / 1024, skew, evict, pass, ns, (bytes / 1024.0) / (ns / 1e9), faults);
}

static char *map(int fd, size_t bytes, int prot, int flags) {
  char *p = mmap(at, bytes, prot, flags | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

// One timed pass: copy every record into (store) or out of the mapping, print it, then the
// untimed msync(MS_SYNC), munmap and close that iozone does after its timer stops.
static void timed_pass(const char *pass, int fd, char *p, size_t bytes, int store) {
  long f0 = flt();
  long long t0 = now_ns();
  if (store) for (size_t o = 0; o < bytes; o += REC) memcpy(p + o, rec, REC);
  else for (size_t o = 0; o < bytes; o += REC) memcpy(rec, p + o, REC);
  long long t1 = now_ns();
  long f1 = flt();
  emit(pass, bytes, t1 - t0, f1 - f0);
  msync(p, bytes, MS_SYNC);
  munmap(p, bytes);
  close(fd);
}

static void write_test(const char *fn, size_t bytes) {
  for (int j = 0; j < 2; j++) {
    int fd = open(fn, O_RDWR | O_CREAT | (j == 0 ? O_TRUNC : 0), 0644);
    if (fd < 0) { perror("open"); exit(1); }
    if (pwrite(fd, rec, REC, bytes - REC) != REC) { perror("pwrite"); exit(1); }
    char *p = map(fd, bytes, PROT_READ | PROT_WRITE, MAP_SHARED);
    fsync(fd);
    memset(rec, 0xa5, REC);
    timed_pass(j == 0 ? "write" : "rewrite", fd, p, bytes, 1);
  }
}

static void read_test(const char *fn, size_t bytes) {
  for (int j = 0; j < 2; j++) {
    int fd = open(fn, O_RDONLY);
    if (fd < 0) { perror("open"); exit(1); }
    char *p = map(fd, bytes, PROT_READ, MAP_PRIVATE);
    fsync(fd);
    if (read(fd, rec, REC) != REC) { perror("read"); exit(1); }
    lseek(fd, 0, SEEK_SET);
    timed_pass(j == 0 ? "read" : "reread", fd, p, bytes, 0);
  }
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s DIR SIZE_KB REPS [SKEW_BYTES] [FSNAME]\n", argv[0]); return 2; }
  static struct utsname u; uname(&u); kernel = u.release;
  size_t bytes = (size_t)atol(argv[2]) * 1024;
  int reps = atoi(argv[3]);
  skew = argc > 4 ? (size_t)atol(argv[4]) : 0;
  fsname = argc > 5 ? argv[5] : argv[1];
  evict = getenv("EVICT") && atoi(getenv("EVICT"));
  // Allocated before the reservation, so that nothing lands in the holes munmap leaves there.
  if (evict && !(big = malloc(256 << 20))) { perror("malloc"); return 1; }
  reserve = mmap(NULL, bytes + (4 << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserve == MAP_FAILED) { perror("mmap reserve"); return 1; }
  at = (char *)((((unsigned long)reserve + (2 << 20) - 1) & ~((2UL << 20) - 1)) + skew);
  char fn[4096]; snprintf(fn, sizeof fn, "%s/rereadprobe.dat", argv[1]);
  for (rep = 0; rep < reps; rep++) {
    write_test(fn, bytes);
    if (evict) memset(big, rep, 256 << 20);
    read_test(fn, bytes);
  }
  unlink(fn);
  return 0;
}
