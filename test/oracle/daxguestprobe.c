// daxsim guest oracle probe: page faults, signals, errno, st_blocks and smaps of 8 MiB files on
// ext4 -o dax (pmem), in the Linux 6.1 guest of ../shared/oracle/guest-harness. Every scenario runs
// in a child process on a fresh file, mapped with MAP_FIXED at a 2 MiB-aligned address ("va":0)
// or at 2 MiB + 4 KiB ("va":4096); each step prints one JSON line with the getrusage minflt/majflt
// deltas of the step, the /proc/vmstat deltas thp_fault_fallback and thp_split_pmd, whether the
// loop ended in a signal (and at which page), the syscall result (ret/err), the sum of the bytes a
// read pass saw, smaps (Rss, Anonymous, AnonHugePages, FilePmdMapped summed over the VMAs of the
// mapping, their count, VmFlags of the first), st_blocks, and pmd_chunks: how many 2 MiB file
// chunks lie in one extent whose physical start is 2 MiB-aligned (FIEMAP; "unwritten" counts them
// among unwritten extents). Groups (WHICH letters): p MAP_PRIVATE (COW, holes), f fallocate /
// punch hole / zero range / ftruncate / pwrite while mapped, m madvise (DONTNEED, REMOVE, WILLNEED, NOHUGEPAGE,
// COLD, PAGEOUT, FREE, POPULATE_READ/WRITE, errno table), r mprotect of PMD-mapped regions, s msync.
// A syscall's row counts what happened inside the call (MADV_POPULATE_* faults, mprotect's PMD splits).
// Files: fallocate then pwrite in 1 MiB chunks of 0x5a then fsync ("written": the preallocation puts
// them on 2 MiB-aligned blocks), ftruncate ("sparse"), or pwrite alone (scenario pwrite-layout).
// Build and run inside the harness: copy ../shared/oracle/guest-harness to a writable folder, copy
// this file to its src/probe.c, then
//   ORACLE_WORK=/tmp/ow2 REPS=2 FSLIST=ext4-dax ACCEL=tcg bash run.sh
// and keep the console's {"kernel":...} lines: test/oracle/linux-6.1-guest-dax-ops.jsonl came so
// (two boots, REPS=2 each, every row identical; rep 1 of each boot is kept, with a "boot" field). On FS "ext4-dax" each scenario first makes a fresh
// filesystem (umount, mkfs.ext4 -q -F /dev/pmem0, mount -o dax), so block placement is that of a
// new filesystem every time. It also runs on a host: ./probe all FS DIR REPS pfmrs.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG 4096UL
#define MiB (1024UL * 1024UL)
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif
#define PMD (2 * MiB)
#define LEN (8 * MiB)
#define NPG (LEN / PG)

static const char *g_fs, *g_dir, *g_scn;
static int g_rep, g_va;
static char g_kver[128];
static char *g_map;        /* the mapping (for smaps) */
static char g_path[512];
static int g_fd = -1;
static sigjmp_buf g_jb;
static volatile int g_sig;

static void on_sig(int s) { g_sig = s; siglongjmp(g_jb, 1); }

static long vmstat(const char *key) {
  static char buf[1 << 16];
  int fd = open("/proc/vmstat", O_RDONLY);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  size_t kl = strlen(key);
  for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (!strncmp(p, key, kl) && p[kl] == ' ') return atol(p + kl + 1);
  return -1;
}

struct snap { long minflt, majflt, fallback, split; };
static void take(struct snap *s) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  s->minflt = r.ru_minflt; s->majflt = r.ru_majflt;
  s->fallback = vmstat("thp_fault_fallback"); s->split = vmstat("thp_split_pmd");
}

/* smaps of the VMAs overlapping [g_map, g_map + LEN): sums in kB, VMA count, first VmFlags. */
struct sm { long rss, anon, anonhuge, filepmd; int vmas; char flags[128]; };
static void smaps(struct sm *o) {
  static char buf[1 << 20];
  memset(o, 0, sizeof *o);
  if (!g_map) return; /* not mapped yet: no VMA of ours */
  int fd = open("/proc/self/smaps", O_RDONLY);
  size_t n = 0; ssize_t r;
  while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += r;
  close(fd);
  buf[n] = 0;
  unsigned long lo = (unsigned long)g_map, hi = lo + LEN;
  int in = 0;
  for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    unsigned long s, e;
    if (sscanf(l, "%lx-%lx ", &s, &e) == 2 && strchr(l, '-') < strchr(l, ' ')) { in = s < hi && e > lo; if (in) o->vmas++; continue; }
    if (!in) continue;
    long v;
    if (sscanf(l, "Rss: %ld", &v) == 1) o->rss += v;
    else if (sscanf(l, "Anonymous: %ld", &v) == 1) o->anon += v;
    else if (sscanf(l, "AnonHugePages: %ld", &v) == 1) o->anonhuge += v;
    else if (sscanf(l, "FilePmdMapped: %ld", &v) == 1) o->filepmd += v;
    else if (!strncmp(l, "VmFlags: ", 9) && o->vmas == 1) { char *e2 = strchr(l, '\n'); size_t k = e2 ? (size_t)(e2 - l - 9) : strlen(l + 9); if (k > 127) k = 127; memcpy(o->flags, l + 9, k); o->flags[k] = 0; while (k && o->flags[k - 1] == ' ') o->flags[--k] = 0; }
  }
}

/* 2 MiB chunks of the file in one extent starting at a 2 MiB-aligned physical address: written and unwritten. */
static void pmd_chunks(int *written, int *unwritten) {
  *written = *unwritten = 0;
  struct { struct fiemap f; struct fiemap_extent e[256]; } fm;
  memset(&fm, 0, sizeof fm);
  fm.f.fm_length = ~0ULL; fm.f.fm_extent_count = 256;
  if (ioctl(g_fd, FS_IOC_FIEMAP, &fm) < 0) { *written = *unwritten = -1; return; }
  for (unsigned long c = 0; c < LEN / PMD; c++) {
    unsigned long lo = c * PMD;
    for (unsigned i = 0; i < fm.f.fm_mapped_extents; i++) {
      struct fiemap_extent *e = &fm.e[i];
      if (e->fe_logical > lo || e->fe_logical + e->fe_length < lo + PMD) continue;
      if ((e->fe_physical + (lo - e->fe_logical)) % PMD) continue;
      if (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ++*unwritten; else ++*written;
    }
  }
}

/* The file's extents as "logical+len@physical" in 4 KiB blocks, "u" for unwritten. */
static void extents(char *out, size_t n) {
  struct { struct fiemap f; struct fiemap_extent e[64]; } fm;
  memset(&fm, 0, sizeof fm);
  fm.f.fm_length = ~0ULL; fm.f.fm_extent_count = 64;
  out[0] = 0;
  if (ioctl(g_fd, FS_IOC_FIEMAP, &fm) < 0) return;
  size_t k = 0;
  for (unsigned i = 0; i < fm.f.fm_mapped_extents && k + 48 < n; i++) {
    struct fiemap_extent *e = &fm.e[i];
    k += snprintf(out + k, n - k, "%s%llu+%llu@%llu%s", i ? " " : "", e->fe_logical / PG, e->fe_length / PG, e->fe_physical / PG,
                  (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ? "u" : "");
  }
}

static long blocks(void) { struct stat st; return fstat(g_fd, &st) ? -1 : (long)st.st_blocks; }

/* One JSON line: the step's deltas since *s0 and the state now. */
static void row(const char *step, struct snap *s0, int sig, long sig_page, long ret, int err, long sum) {
  struct snap s1; take(&s1);
  struct sm m; smaps(&m);
  int pw, pu; pmd_chunks(&pw, &pu);
  static char ext[2048]; extents(ext, sizeof ext);
  printf("{\"kernel\":\"%s\",\"fs\":\"%s\",\"rep\":%d,\"scenario\":\"%s\",\"va\":%d,\"step\":\"%s\",\"minflt\":%ld,\"majflt\":%ld,"
         "\"fallback\":%ld,\"split\":%ld,\"sig\":\"%s\",\"sig_page\":%ld,\"ret\":%ld,\"err\":\"%s\",\"sum\":%ld,"
         "\"rss_kb\":%ld,\"anon_kb\":%ld,\"anonhuge_kb\":%ld,\"filepmd_kb\":%ld,\"vmas\":%d,\"vmflags\":\"%s\",\"st_blocks\":%ld,"
         "\"pmd_chunks\":%d,\"pmd_chunks_unwritten\":%d,\"extents\":\"%s\"}\n",
         g_kver, g_fs, g_rep, g_scn, g_va, step, s1.minflt - s0->minflt, s1.majflt - s0->majflt, s1.fallback - s0->fallback,
         s1.split - s0->split, sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "none", sig_page, ret,
         err ? strerrorname_np(err) : "", sum, m.rss, m.anon, m.anonhuge, m.filepmd, m.vmas, m.flags, blocks(), pw, pu, ext);
  fflush(stdout);
  take(s0);
}

/* Touch one byte per page of pages [from, to) of the mapping (read: sum the bytes; write: store 1). */
static void pass(const char *step, long from, long to, int wr) {
  struct snap s0; take(&s0);
  volatile long sum = 0;
  volatile long i = from;
  g_sig = 0;
  if (sigsetjmp(g_jb, 1) == 0) {
    for (; i < to; i++) { if (wr) g_map[i * PG] = 1; else sum += (unsigned char)g_map[i * PG]; }
  }
  struct snap keep = s0;
  row(step, &keep, g_sig, g_sig ? i : -1, 0, 0, wr ? 0 : sum);
}

/* A syscall step: the deltas around the call (faults taken inside it, as MADV_POPULATE_* takes them), its result, errno and the state after it. */
static struct snap g_sys0;
static void sysrow(const char *step, long r) {
  int e = r < 0 ? errno : 0;
  row(step, &g_sys0, 0, -1, r, e, 0);
}

/* kind 0: written (fallocate, so the blocks are 2 MiB-aligned, then pwrite 1 MiB chunks of 0x5a and fsync);
   1: sparse (ftruncate); 2: written by pwrite alone (where a fresh ext4 puts it: not 2 MiB-aligned). */
static void mkfile(int kind) {
  snprintf(g_path, sizeof g_path, "%s/dgp-%s-%d.dat", g_dir, g_scn, g_va);
  g_fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (kind == 1) { if (ftruncate(g_fd, LEN)) perror("ftruncate"); return; }
  if (kind == 0 && fallocate(g_fd, 0, 0, LEN)) perror("fallocate");
  static char b[MiB]; memset(b, 0x5a, sizeof b);
  for (unsigned long o = 0; o < LEN; o += MiB) if (pwrite(g_fd, b, MiB, o) != (ssize_t)MiB) perror("pwrite");
  fsync(g_fd);
}

static char *g_base;  /* 2 MiB-aligned start of a reserved region */
static char *map(int prot, int flags) {
  g_map = mmap(g_base + g_va, LEN, prot, flags | MAP_FIXED, g_fd, 0);
  if (g_map == MAP_FAILED) { perror("mmap"); exit(1); }
  return g_map;
}

#define R(step, call) do { take(&g_sys0); sysrow(step, (long)(call)); } while (0)

static void priv(void) {
  g_scn = "priv-read-write"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_PRIVATE);
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("reread", 0, NPG, 0);
  R("dontneed", madvise(g_map, LEN, MADV_DONTNEED)); pass("read-after-dontneed", 0, NPG, 0); pass("write-after-dontneed", 0, NPG, 1);
}
static void pwrite_layout(void) {
  g_scn = "pwrite-layout"; mkfile(2); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1);
}
static void priv_write(void) { g_scn = "priv-write"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_PRIVATE); pass("write", 0, NPG, 1); pass("read", 0, NPG, 0); }
static void priv_hole(void) {
  g_scn = "priv-hole-read-write"; mkfile(1); map(PROT_READ | PROT_WRITE, MAP_PRIVATE);
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("reread", 0, NPG, 0);
}
static void priv_hole_write(void) { g_scn = "priv-hole-write"; mkfile(1); map(PROT_READ | PROT_WRITE, MAP_PRIVATE); pass("write", 0, NPG, 1); }

static void falloc_rw(void) {
  g_scn = "falloc-read-write"; mkfile(1); R("fallocate", fallocate(g_fd, 0, 0, LEN)); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("rewrite", 0, NPG, 1);
  R("fsync", fsync(g_fd)); pass("write-after-fsync", 0, NPG, 1);
}
static void falloc_write(void) { g_scn = "falloc-write"; mkfile(1); R("fallocate", fallocate(g_fd, 0, 0, LEN)); map(PROT_READ | PROT_WRITE, MAP_SHARED); pass("write", 0, NPG, 1); pass("read", 0, NPG, 0); }
static void punch(void) {
  g_scn = "punch-mapped"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0);
  R("punch-1page", fallocate(g_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, PMD + 2 * PG, PG));
  R("punch-chunk2", fallocate(g_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * PMD, PMD));
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("read-after-write", 0, NPG, 0);
}
static void zero_range(void) {
  g_scn = "zero-range-mapped"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("write", 0, NPG, 1);
  R("zero-1page", fallocate(g_fd, FALLOC_FL_ZERO_RANGE, PMD + 2 * PG, PG));
  R("zero-chunk2", fallocate(g_fd, FALLOC_FL_ZERO_RANGE, 2 * PMD, PMD));
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("read-after-write", 0, NPG, 0);
}
static void keepsize(void) {
  g_scn = "falloc-keepsize-past-eof"; mkfile(0); R("ftruncate-4M", ftruncate(g_fd, LEN / 2));
  R("fallocate-keepsize", fallocate(g_fd, FALLOC_FL_KEEP_SIZE, 0, LEN)); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("write-tail", NPG / 2, NPG, 1);
  R("ftruncate-8M", ftruncate(g_fd, LEN)); pass("read-tail-after-extend", NPG / 2, NPG, 0); pass("write-tail-after-extend", NPG / 2, NPG, 1);
}

static void mad_dontneed(void) {
  g_scn = "dontneed-shared"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("write", 0, NPG, 1); R("dontneed", madvise(g_map, LEN, MADV_DONTNEED));
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1);
  R("dontneed-1page", madvise(g_map + PMD + 3 * PG, PG, MADV_DONTNEED)); pass("write-after-1page", 0, NPG, 1);
}
static void mad_remove(void) {
  g_scn = "remove-shared"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0); R("remove-chunk1", madvise(g_map + PMD, PMD, MADV_REMOVE)); R("remove-1page", madvise(g_map + 2 * PMD + PG, PG, MADV_REMOVE));
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1);
}
static void mad_errno(void) {
  g_scn = "madvise-errno"; mkfile(0);
  const int adv[] = { MADV_REMOVE, MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_FREE, MADV_DONTFORK, MADV_DOFORK, MADV_RANDOM,
    MADV_SEQUENTIAL, MADV_NORMAL, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTNEED };
  const char *nm[] = { "REMOVE", "WILLNEED", "COLD", "PAGEOUT", "FREE", "DONTFORK", "DOFORK", "RANDOM", "SEQUENTIAL", "NORMAL",
    "HUGEPAGE", "NOHUGEPAGE", "DONTNEED" };
  const struct { const char *k; int prot, flags; } kinds[] = { { "shared-rw", PROT_READ | PROT_WRITE, MAP_SHARED },
    { "shared-ro", PROT_READ, MAP_SHARED }, { "private-rw", PROT_READ | PROT_WRITE, MAP_PRIVATE } };
  for (int k = 0; k < 3; k++) {
    map(kinds[k].prot, kinds[k].flags);
    pass(kinds[k].k, 0, 4, 0);
    for (int i = 0; i < 13; i++) {
      char step[64]; snprintf(step, sizeof step, "%s-%s", kinds[k].k, nm[i]);
      R(step, madvise(g_map + 8 * PG, PG, adv[i]));
    }
    munmap(g_map, LEN);
  }
}
static void mad_willneed(void) {
  g_scn = "willneed-cold-pageout"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  R("willneed", madvise(g_map, LEN, MADV_WILLNEED)); pass("read", 0, NPG, 0);
  R("cold", madvise(g_map, LEN, MADV_COLD)); R("pageout", madvise(g_map, LEN, MADV_PAGEOUT)); pass("reread", 0, NPG, 0);
  pass("write", 0, NPG, 1); R("pageout-dirty", madvise(g_map, LEN, MADV_PAGEOUT)); pass("rewrite", 0, NPG, 1);
}
static void mad_nohuge(void) {
  g_scn = "nohugepage"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  R("nohugepage", madvise(g_map, LEN, MADV_NOHUGEPAGE)); pass("read", 0, NPG, 0); pass("write", 0, NPG, 1);
  R("hugepage", madvise(g_map, LEN, MADV_HUGEPAGE)); R("dontneed", madvise(g_map, LEN, MADV_DONTNEED));
  pass("read-after-hugepage", 0, NPG, 0); pass("write-after-hugepage", 0, NPG, 1);
  R("nohugepage-chunk1", madvise(g_map + PMD, PMD, MADV_NOHUGEPAGE)); R("dontneed-2", madvise(g_map, LEN, MADV_DONTNEED));
  pass("read-after-nohugepage-chunk1", 0, NPG, 0);
}
static void mad_hole_huge(void) {
  g_scn = "hole-read-write-shared"; mkfile(1); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0); pass("write", 0, NPG, 1); pass("reread", 0, NPG, 0);
}

static void populate(void) {
  g_scn = "populate"; mkfile(1); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  R("populate-read", madvise(g_map, LEN, MADV_POPULATE_READ)); pass("read", 0, NPG, 0);
  R("populate-write-half", madvise(g_map, LEN / 2, MADV_POPULATE_WRITE)); pass("write", 0, NPG, 1);
  R("ftruncate-6M", ftruncate(g_fd, 6 * MiB)); R("populate-write-past-eof", madvise(g_map, LEN, MADV_POPULATE_WRITE));
  R("populate-read-past-eof", madvise(g_map + 6 * MiB, PMD, MADV_POPULATE_READ));
  R("mprotect-ro", mprotect(g_map, LEN, PROT_READ)); R("populate-write-ro", madvise(g_map, PMD, MADV_POPULATE_WRITE));
  R("populate-read-ro", madvise(g_map, PMD, MADV_POPULATE_READ));
}
static void write_syscall(void) {
  g_scn = "pwrite-into-mapped-hole"; mkfile(1); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  static char b[PMD]; memset(b, 0x77, sizeof b);
  pass("read", 0, NPG, 0);
  R("pwrite-page10", pwrite(g_fd, b, PG, 10 * PG)); R("pwrite-chunk2", pwrite(g_fd, b, PMD, 2 * PMD));
  pass("read-after-pwrite", 0, NPG, 0);
  R("pwrite-page10-again", pwrite(g_fd, b, PG, 10 * PG)); pass("reread", 0, NPG, 0); pass("write", 0, NPG, 1);
}
static void priv_truncate(void) {
  g_scn = "priv-truncate"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_PRIVATE);
  pass("write", 0, NPG / 2, 1); pass("read", 0, NPG, 0); R("ftruncate-5M", ftruncate(g_fd, 5 * MiB));
  pass("read-after-truncate", 0, NPG, 0); R("ftruncate-8M", ftruncate(g_fd, LEN)); pass("read-after-extend", 0, NPG, 0);
}
static void truncate_mapped(void) {
  g_scn = "truncate-mapped"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("write", 0, NPG, 1); R("ftruncate-5M", ftruncate(g_fd, 5 * MiB)); pass("read", 0, NPG, 0);
  R("ftruncate-8M", ftruncate(g_fd, LEN)); pass("read-after-extend", 0, NPG, 0); pass("write-after-extend", 0, NPG, 1);
}

static void mprot(void) {
  g_scn = "mprotect-ro-rw"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("write", 0, NPG, 1);
  R("mprotect-ro", mprotect(g_map, LEN, PROT_READ)); pass("read-ro", 0, NPG, 0);
  R("mprotect-rw", mprotect(g_map, LEN, PROT_READ | PROT_WRITE)); pass("write-after-ro-rw", 0, NPG, 1);
  R("fsync", fsync(g_fd)); R("mprotect-ro-2", mprotect(g_map, LEN, PROT_READ)); R("mprotect-rw-2", mprotect(g_map, LEN, PROT_READ | PROT_WRITE));
  pass("write-after-fsync-ro-rw", 0, NPG, 1);
}
static void mprot_half(void) {
  g_scn = "mprotect-half-pmd"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("write", 0, NPG, 1);
  R("mprotect-ro-half-chunk1", mprotect(g_map + PMD, MiB, PROT_READ)); pass("read", 0, NPG, 0);
  pass("write-ro-half", 512, 513, 1); pass("write-rw-half", 768, 1024, 1);
  R("mprotect-rw-half-chunk1", mprotect(g_map + PMD, MiB, PROT_READ | PROT_WRITE)); pass("write", 0, NPG, 1);
  R("dontneed", madvise(g_map, LEN, MADV_DONTNEED)); pass("read-after-dontneed", 0, NPG, 0);
}
static void mprot_none(void) {
  g_scn = "mprotect-none"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("read", 0, NPG, 0); R("mprotect-none", mprotect(g_map, LEN, PROT_NONE)); pass("read-none", 0, 1, 0);
  R("mprotect-rw", mprotect(g_map, LEN, PROT_READ | PROT_WRITE)); pass("read-after", 0, NPG, 0); pass("write-after", 0, NPG, 1);
}

static void msyncs(void) {
  g_scn = "msync"; mkfile(0); map(PROT_READ | PROT_WRITE, MAP_SHARED);
  pass("write", 0, NPG, 1); R("msync-async", msync(g_map, LEN, MS_ASYNC)); pass("write-after-async", 0, NPG, 1);
  R("msync-sync-half", msync(g_map, LEN / 2, MS_SYNC)); pass("write-after-sync-half", 0, NPG, 1);
  R("msync-sync-1page", msync(g_map + PMD + 5 * PG, PG, MS_SYNC)); pass("write-after-sync-1page", 0, NPG, 1);
  R("msync-invalidate", msync(g_map, LEN, MS_INVALIDATE)); pass("write-after-invalidate", 0, NPG, 1);
}

/* A fresh filesystem for every scenario on ext4-dax (mkfs + mount -o dax), so block placement does not depend on the scenarios before. */
static void fresh_fs(void) {
  if (strcmp(g_fs, "ext4-dax")) return;
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "umount %s && mkfs.ext4 -q -F /dev/pmem0 >/dev/null 2>&1 && mount -t ext4 -o dax /dev/pmem0 %s", g_dir, g_dir);
  if (system(cmd)) { fprintf(stderr, "fresh_fs failed\n"); exit(1); }
}

static void run(void (*f)(void), int va) {
  fflush(stdout);
  fresh_fs();
  pid_t p = fork();
  if (p == 0) {
    g_va = va;
    struct snap w; take(&w); struct sm w2; smaps(&w2); /* fault in the probe's own buffers before measuring */
    char *r = mmap(NULL, LEN + 4 * PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    g_base = (char *)(((unsigned long)r + PMD - 1) & ~(PMD - 1));
    struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = on_sig; sa.sa_flags = SA_NODEFER;
    sigaction(SIGBUS, &sa, NULL); sigaction(SIGSEGV, &sa, NULL);
    f();
    if (g_map) munmap(g_map, LEN);
    close(g_fd);
    unlink(g_path);
    fflush(stdout);
    _exit(0);
  }
  int st; waitpid(p, &st, 0);
}

int main(int argc, char **argv) {
  struct utsname u; uname(&u); snprintf(g_kver, sizeof g_kver, "%s", u.release);
  if (argc >= 2 && !strcmp(argv[1], "meta")) { printf("{\"scenario\":\"meta\",\"kernel\":\"%s\"}\n", g_kver); return 0; }
  if (argc < 6 || strcmp(argv[1], "all")) { fprintf(stderr, "usage: %s meta | all FS DIR REPS WHICH\n", argv[0]); return 2; }
  g_fs = argv[2]; g_dir = argv[3];
  int reps = atoi(argv[4]);
  const char *which = strpbrk(argv[5], "pfmrs") ? argv[5] : "pfmrs";
  struct { char g; void (*f)(void); int both; } all[] = {
    { 'p', pwrite_layout, 1 }, { 'p', priv, 1 }, { 'p', priv_write, 1 }, { 'p', priv_hole, 1 }, { 'p', priv_hole_write, 1 },
    { 'f', falloc_rw, 1 }, { 'f', falloc_write, 1 }, { 'f', punch, 1 }, { 'f', zero_range, 1 }, { 'f', keepsize, 1 },
    { 'm', mad_dontneed, 1 }, { 'm', mad_remove, 1 }, { 'm', mad_errno, 0 }, { 'm', mad_willneed, 1 }, { 'm', mad_nohuge, 0 },
    { 'm', mad_hole_huge, 1 }, { 'm', populate, 1 }, { 'f', truncate_mapped, 1 }, { 'f', write_syscall, 1 }, { 'p', priv_truncate, 1 },
    { 'r', mprot, 1 }, { 'r', mprot_half, 0 }, { 'r', mprot_none, 1 },
    { 's', msyncs, 1 },
  };
  for (g_rep = 1; g_rep <= reps; g_rep++)
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++) {
      if (!strchr(which, all[i].g)) continue;
      run(all[i].f, 0);
      if (all[i].both) run(all[i].f, 4096);
    }
  return 0;
}
