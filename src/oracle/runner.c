/*
 * runner.c - daxsim's real-kernel scenario runner (issue 11).
 *
 * Executes the steps of one scenario, encoded by src/oracle/encode.ts as a line-oriented text
 * file, on the running kernel and prints one JSON line per step: the return value or errno
 * name, the signal and its page index, getrusage minflt/majflt deltas around the step, and
 * after each access and at each report: mincore, /proc/self/pagemap bits per page (present,
 * file-or-shared, exclusive, soft-dirty; as root also zero page and pmem PFNs), smaps Rss and
 * the address modulo 2 MiB of every live mapping, and st_blocks of every file used so far.
 *
 * Build (src/oracle/build.ts does it on first use, into the cache dir):
 *   gcc -static -O2 -Wall -o daxsim-runner runner.c
 * Run:  daxsim-runner FILE.run FS-LABEL        (output on stdout, JSON lines)
 *
 * Nothing the runner does itself may fault inside a measured step: its text, data, buffers and
 * stack are touched and locked (mlockall MCL_CURRENT) before the first step, SIGBUS/SIGSEGV are
 * taken on a touched alternate stack, and scenario mappings live inside a PROT_NONE reservation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define PG 4096UL
#define PMD_BYTES (2UL << 20)
#define GIB (1UL << 30)
#define MAXSLOT 64
#define MAXPAGES (1UL << 21) /* pages of one mapping the state dump covers (8 GiB) */
#define MAXPROC 8             /* main and the children fork steps make */
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

/* ---------------------------------------------------------------- output */
static char obuf[8 << 20];
static size_t olen;

static void oflush(void)
{
	size_t off = 0;
	while (off < olen) {
		ssize_t r = write(1, obuf + off, olen - off);
		if (r <= 0)
			break;
		off += r;
	}
	olen = 0;
}

static void out(const char *fmt, ...)
{
	va_list ap;
	if (olen > sizeof(obuf) - 65536)
		oflush();
	va_start(ap, fmt);
	olen += vsnprintf(obuf + olen, sizeof(obuf) - olen, fmt, ap);
	va_end(ap);
}

static void ostr(const char *s)
{
	out("\"");
	for (; *s; s++) {
		unsigned char c = *s;
		if (c == '"' || c == '\\')
			out("\\%c", c);
		else if (c < 0x20)
			out("\\u%04x", c);
		else
			out("%c", c);
	}
	out("\"");
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static void die_hook(void);

static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	out("{\"fatal\":");
	ostr(msg);
	out("}\n");
	oflush();
	die_hook();
	exit(2);
}

/* ---------------------------------------------------------------- state */
struct map { int live; uintptr_t addr; size_t len; char name[64]; };
struct path { int used; char real[512]; char shown[512]; };
static int fds[MAXSLOT];
static struct map maps[MAXSLOT];
static struct path paths[MAXSLOT];
static uintptr_t resv_lo, resv_hi; /* the reservation, real addresses */
static intptr_t shift;              /* real address - scenario address */
static unsigned char *buf;          /* I/O buffer, touched and locked */
static size_t bufsz;
static unsigned char *mcvec;        /* mincore vector */
static uint64_t *pmvec;             /* pagemap entries */
static char *rle[7];                /* run-length strings */
static unsigned long zero_pfn, hzero_pfn;
static unsigned long pmem_lo[8], pmem_hi[8];
static int npmem, is_root, soft_dirty;
static int pagemap_fd = -1;
/* trace_marker of tracefs when $DAXSIM_TRACE_MARKER names it (guest-init.sh with tracing on):
 * each step is bracketed by "daxsim B I" and "daxsim E I" so its events can be attributed. */
static int marker_fd = -1;
static char markbuf[64];

/* Writes one step marker (outside the getrusage window; the buffer is locked with the rest). */
static void mark(char kind, const char *idx)
{
	if (marker_fd < 0)
		return;
	int n = snprintf(markbuf, sizeof markbuf, "daxsim %c %s", kind, idx);
	if (write(marker_fd, markbuf, n) < 0)
		marker_fd = -1;
}

/* ---------------------------------------------------------------- processes
 * fork steps make children; exactly one process runs at a time, in step order. Each process
 * waits on its own pipe for the index of the next line it is to run (the baton); the one that
 * has run a step passes the baton to the owner of the next step line. Shared state (pids, who
 * lives, the rusage a fork step reads right after the syscall) is in a MAP_SHARED page. */
struct shared { struct rusage ru[2]; pid_t pid[MAXPROC]; int live[MAXPROC]; };
static struct shared *shm;
static int me;                      /* this process's slot */
static int baton[MAXPROC][2];
static char procname[MAXPROC][64];
#define BATON_END (-1L)
#define BATON_DIE (-2L)

static void pass_baton(int to, long v)
{
	if (write(baton[to][1], &v, sizeof v) != sizeof v)
		_exit(3);
}

/* ---------------------------------------------------------------- signals */
static sigjmp_buf jb;
static volatile sig_atomic_t armed;
static volatile uintptr_t sig_addr;
static volatile int sig_no;
static char altstack[256 * 1024];

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (!armed) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	armed = 0;
	sig_no = sig;
	sig_addr = (uintptr_t)si->si_addr;
	siglongjmp(jb, 1);
}

static void setup_signals(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
	memset(altstack, 0, sizeof altstack);
	if (sigaltstack(&ss, NULL))
		die("sigaltstack: %s", errname(errno));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
}

static const char *signame(int s)
{
	return s == SIGBUS ? "SIGBUS" : s == SIGSEGV ? "SIGSEGV" : s == SIGILL ? "SIGILL" : "SIG?";
}

/* ---------------------------------------------------------------- small helpers */
static ssize_t slurp(const char *path, char *b, size_t sz)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t off = 0;
	for (;;) {
		ssize_t r = read(fd, b + off, sz - 1 - off);
		if (r <= 0)
			break;
		off += r;
		if (off >= sz - 1)
			break;
	}
	close(fd);
	b[off] = 0;
	return off;
}

static int put_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return -errno;
	ssize_t r = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	return r < 0 ? -e : 0;
}

static uint64_t pagemap_entry(uintptr_t va)
{
	uint64_t e = 0;
	if (pagemap_fd < 0 || pread(pagemap_fd, &e, 8, (va / PG) * 8) != 8)
		return 0;
	return e;
}

/* PFN of the page mapped at va after reading it (0 when PFNs are hidden: not root). */
static unsigned long pfn_after_read(volatile unsigned char *p)
{
	(void)*p;
	return pagemap_entry((uintptr_t)p) & ((1ULL << 55) - 1);
}

/* The zero page's PFN (an untouched private anonymous page, read) and the huge zero page's
 * (MADV_HUGEPAGE, a read at a 2 MiB boundary); pmem ranges from /proc/iomem. */
static void probe_env(void)
{
	unsigned char *p = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		zero_pfn = pfn_after_read(p);
		soft_dirty = (pagemap_entry((uintptr_t)p) >> 55) & 1; /* VM_SOFTDIRTY of a new VMA */
		munmap(p, PG);
	}
	unsigned char *q = mmap(NULL, 2 * PMD_BYTES, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q != MAP_FAILED) {
		unsigned char *a = (unsigned char *)(((uintptr_t)q + PMD_BYTES - 1) & ~(PMD_BYTES - 1));
		madvise(a, PMD_BYTES, MADV_HUGEPAGE);
		unsigned long h = pfn_after_read(a);
		if (h != 0 && h != zero_pfn)
			hzero_pfn = h;
		munmap(q, 2 * PMD_BYTES);
	}
	static char io[1 << 16];
	if (slurp("/proc/iomem", io, sizeof io) <= 0)
		return;
	char *save, *line = strtok_r(io, "\n", &save);
	for (; line && npmem < 8; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "Persistent Memory"))
			continue;
		unsigned long lo, hi;
		if (sscanf(line, " %lx-%lx", &lo, &hi) == 2 && hi > lo) {
			pmem_lo[npmem] = lo / PG;
			pmem_hi[npmem++] = (hi + 1) / PG;
		}
	}
}

static int in_pmem(unsigned long pfn)
{
	for (int i = 0; i < npmem; i++)
		if (pfn >= pmem_lo[i] && pfn < pmem_hi[i])
			return 1;
	return 0;
}

/* Run-length string of a 0/1/- character sequence: "1x16,0x2032". */
static void rle_out(const char *key, const char *s, size_t n)
{
	out(",\"%s\":\"", key);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && s[j] == s[i])
			j++;
		out("%s%cx%zu", i ? "," : "", s[i], j - i);
		i = j;
	}
	out("\"");
}

/* ---------------------------------------------------------------- state dump */
static char smapsbuf[4 << 20];

/* smaps fields (kB) of the VMA containing addr: Rss, Anonymous, AnonHugePages, FilePmdMapped. */
static void smaps_of(uintptr_t addr, long v[4])
{
	static const char *keys[4] = { "Rss:", "Anonymous:", "AnonHugePages:", "FilePmdMapped:" };
	v[0] = v[1] = v[2] = v[3] = -1;
	if (slurp("/proc/self/smaps", smapsbuf, sizeof smapsbuf) <= 0)
		return;
	int in = 0;
	char *save, *line = strtok_r(smapsbuf, "\n", &save);
	for (; line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		char c;
		if (sscanf(line, "%lx-%lx %c", &lo, &hi, &c) == 3) { /* a VMA header, not a "Key: value" line */
			if (in)
				return;
			in = addr >= lo && addr < hi;
			continue;
		}
		if (!in)
			continue;
		for (int k = 0; k < 4; k++)
			if (!strncmp(line, keys[k], strlen(keys[k])))
				v[k] = strtol(line + strlen(keys[k]), NULL, 10);
	}
}

static void mincore_of(struct map *m, size_t n, char *s)
{
	if (mincore((void *)m->addr, n * PG, mcvec) == 0) {
		for (size_t i = 0; i < n; i++)
			s[i] = (mcvec[i] & 1) ? '1' : '0';
		return;
	}
	for (size_t i = 0; i < n; i++) { /* a hole in the mapping: page by page */
		unsigned char c;
		s[i] = mincore((void *)(m->addr + i * PG), PG, &c) ? '-' : (c & 1) ? '1' : '0';
	}
}

static void dump_map(struct map *m)
{
	size_t n = (m->len + PG - 1) / PG; /* the VMA covers the last partial page */
	if (n > MAXPAGES)
		n = MAXPAGES;
	long sm[4];
	smaps_of(m->addr, sm);
	out("\"%s\":{\"va2m\":%lu,\"rss\":%ld,\"anon\":%ld,\"ahp\":%ld,\"fpmd\":%ld", m->name,
	    (unsigned long)(m->addr % PMD_BYTES), sm[0], sm[1], sm[2], sm[3]);
	mincore_of(m, n, rle[0]);
	rle_out("mc", rle[0], n);
	if (pread(pagemap_fd, pmvec, n * 8, (m->addr / PG) * 8) != (ssize_t)(n * 8))
		memset(pmvec, 0, n * 8);
	static const int bit[4] = { 63, 61, 56, 55 };
	static const char *key[6] = { "pr", "fi", "ex", "sd", "zp", "pm" };
	for (int k = 0; k < 6; k++) {
		if (k >= 4 && !is_root)
			break;
		for (size_t i = 0; i < n; i++) {
			uint64_t e = pmvec[i];
			unsigned long pfn = e & ((1ULL << 55) - 1);
			int on;
			if (k < 4)
				on = (e >> bit[k]) & 1;
			else if (k == 4)
				on = (e >> 63) && (pfn == zero_pfn || (hzero_pfn && pfn >= hzero_pfn && pfn < hzero_pfn + 512));
			else
				on = (e >> 63) && in_pmem(pfn);
			rle[k + 1][i] = on ? '1' : '0';
		}
		rle_out(key[k], rle[k + 1], n);
	}
	out("}");
}

static void dump_state(void)
{
	int first = 1;
	out(",\"maps\":{");
	for (int i = 0; i < MAXSLOT; i++) {
		if (!maps[i].live)
			continue;
		out(first ? "" : ",");
		first = 0;
		dump_map(&maps[i]);
	}
	out("},\"files\":{");
	first = 1;
	for (int i = 0; i < MAXSLOT; i++) {
		struct stat st;
		if (!paths[i].used || stat(paths[i].real, &st))
			continue;
		out(first ? "" : ",");
		first = 0;
		ostr(paths[i].shown);
		out(":{\"size\":%lld,\"blocks\":%lld}", (long long)st.st_size, (long long)st.st_blocks);
	}
	out("}");
}


/* ---------------------------------------------------------------- after a fork
 * A child starts with its parent's pages write-protected (anonymous and private ones) or not
 * mapped at all (text: a private file mapping without anon pages is not copied), and fork
 * write-protects the parent's too; memory locks are not inherited. So before a process runs
 * steps again after a fork it touches every page of its own (outside the scenario's
 * reservation): a write to each writable private page, a read of every other readable one. */
static void rewarm(void)
{
	static char mapsbuf[1 << 16];
	if (slurp("/proc/self/maps", mapsbuf, sizeof mapsbuf) <= 0)
		return;
	char *save, *line = strtok_r(mapsbuf, "\n", &save);
	for (; line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long lo, hi;
		char pr[5];
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, pr) != 3 || pr[0] != 'r')
			continue;
		if (strstr(line, "[vvar") || strstr(line, "[vsyscall]"))
			continue;
		if (resv_hi > resv_lo && lo < resv_hi && hi > resv_lo)
			continue;
		for (unsigned long a = lo; a < hi; a += PG) {
			volatile unsigned char *q = (volatile unsigned char *)a;
			unsigned char v = *q;
			if (pr[1] == 'w' && pr[3] == 'p')
				*q = v;
		}
	}
}

/* Wait for the baton: the index of the line to go on at; END: leave; DIE: another process died. */
static long wait_baton(void)
{
	long v;
	if (read(baton[me][0], &v, sizeof v) != sizeof v)
		_exit(3);
	if (v == BATON_DIE) {
		for (int i = 1; i < MAXPROC; i++)
			if (shm->live[i] && i != me)
				kill(shm->pid[i], SIGKILL);
		exit(2);
	}
	if (v == BATON_END) {
		if (me != 0)
			_exit(0);
		return v;
	}
	rewarm();
	return v;
}

static void die_hook(void)
{
	if (shm && me != 0)
		pass_baton(0, BATON_DIE);
	else if (shm)
		for (int i = 1; i < MAXPROC; i++)
			if (shm->live[i])
				kill(shm->pid[i], SIGKILL);
}

/* fork(2) with getrusage(RUSAGE_SELF) right after it, in one asm block that writes no user
 * memory, into the shared page (ru[0] the parent's, ru[1] the child's): the parent's first write
 * after fork would otherwise take a write-protect fault inside the measured step. */
static long fork_measured(void)
{
	long ret;
	struct rusage *p = &shm->ru[0];
	__asm__ volatile(
		"mov $57, %%eax\n\t"
		"syscall\n\t"
		"mov %%rax, %%r12\n\t"
		"mov %[p], %%rsi\n\t"
		"test %%rax, %%rax\n\t"
		"jnz 1f\n\t"
		"add %[sz], %%rsi\n"
		"1:\n\t"
		"mov $98, %%eax\n\t"
		"xor %%edi, %%edi\n\t"
		"syscall\n\t"
		"mov %%r12, %[r]\n\t"
		: [r] "=r"(ret)
		: [p] "r"(p), [sz] "i"(sizeof(struct rusage))
		: "rax", "rdi", "rsi", "rcx", "r11", "r12", "memory", "cc");
	return ret;
}

static int child_started; /* set in a child by its fork step: it waits for the baton first */
static int child_forked_here; /* set in the parent by its fork step */

static long long do_fork(int child)
{
	if (child <= 0 || child >= MAXPROC || shm->live[child])
		die("fork: bad child slot %d", child);
	oflush();
	long pid = fork_measured();
	if (pid < 0)
		return pid;
	if (pid == 0) {
		me = child;
		shm->live[child] = 1;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pagemap_fd >= 0)
			close(pagemap_fd);
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
		child_started = 1;
		return 0;
	}
	shm->pid[child] = (pid_t)pid;
	shm->live[child] = 1;
	child_forked_here = 1;
	return 0;
}

/* ---------------------------------------------------------------- the reservation */
static int cmp_map(const void *a, const void *b)
{
	const struct map *x = *(struct map *const *)a, *y = *(struct map *const *)b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Unmap (unreserve=1) or re-reserve (0) the parts of [lo, hi) inside the reservation that no
 * live scenario mapping covers, so that a hint or MAP_FIXED_NOREPLACE meets what the scenario
 * mapped there and nothing else. */
static void gaps(uintptr_t lo, uintptr_t hi, int unreserve)
{
	struct map *live[MAXSLOT];
	int n = 0;
	if (lo < resv_lo)
		lo = resv_lo;
	if (hi > resv_hi)
		hi = resv_hi;
	for (int i = 0; i < MAXSLOT; i++)
		if (maps[i].live && maps[i].addr < hi && maps[i].addr + maps[i].len > lo)
			live[n++] = &maps[i];
	qsort(live, n, sizeof live[0], cmp_map);
	uintptr_t cur = lo;
	for (int i = 0; i <= n && cur < hi; i++) {
		uintptr_t end = i < n ? live[i]->addr : hi;
		if (end > cur) {
			if (unreserve)
				munmap((void *)cur, end - cur);
			else
				mmap((void *)cur, end - cur, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
		}
		if (i < n && live[i]->addr + live[i]->len > cur)
			cur = live[i]->addr + live[i]->len;
	}
}

/* Reserve [lo, lo+len) of the scenario's address space: at that address when it is free,
 * else at another 1 GiB-aligned place (addresses keep their offset in a 1 GiB page table). */
static void reserve(uintptr_t lo, size_t len)
{
	void *p = mmap((void *)lo, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == (void *)lo) {
		resv_lo = lo;
	} else {
		if (p != MAP_FAILED)
			munmap(p, len);
		p = mmap(NULL, len + GIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			die("cannot reserve %zu bytes of address space: %s", len, errname(errno));
		uintptr_t a = ((uintptr_t)p + GIB - 1) & ~(GIB - 1);
		if (a > (uintptr_t)p)
			munmap(p, a - (uintptr_t)p);
		munmap((void *)(a + len), (uintptr_t)p + len + GIB - (a + len));
		resv_lo = a;
	}
	resv_hi = resv_lo + len;
	shift = (intptr_t)(resv_lo - lo);
}

/* ---------------------------------------------------------------- steps */
struct res { long long r; int err; int sig; long page; int state; int forked; };
static int exiting, exit_status;

static unsigned long long num(char **tok, int i, int n)
{
	if (i >= n)
		die("step line has too few fields");
	char *end;
	unsigned long long v = strtoull(tok[i], &end, 0);
	if (*end)
		die("not a number: %s", tok[i]);
	return v;
}

static int slot(char **tok, int i, int n)
{
	unsigned long long v = num(tok, i, n);
	if (v >= MAXSLOT)
		die("slot %llu out of range", v);
	return (int)v;
}

static long long sysret(long long r) { return r < 0 ? -errno : r; }

/* ---------------------------------------------------------------- data */
/* fmix32 of MurmurHash3, as src/lib/prng.ts mix32. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bU;
	x ^= x >> 13;
	x *= 0xc2b2ae35U;
	return x ^ (x >> 16);
}

/* Byte i of the seeded data stream (src/lib/data.ts streamByte). */
static int data_byte(uint32_t seed, uint64_t i)
{
	uint64_t w = i / 4;
	uint32_t x = mix32((uint32_t)w ^ mix32(seed ^ (uint32_t)(w >> 32)));
	return (x >> (8 * (i % 4))) & 0xff;
}

/* Where a write's bytes come from, or a read's go: the runner's buffer filled with one byte
 * ('b'), a cyclic byte sequence ('h'), the seeded stream ('r'), or a mapping's range ('m'). */
struct src { int kind; int byte; unsigned char seq[4096]; size_t seqlen; uint32_t seed; int map; size_t off;
	size_t aoff; /* 'a:N': the runner's buffer is used from byte N on (an address N past page alignment) */ };

static int hexval(int c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

static size_t unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = strlen(h) / 2;
	if (n > max)
		die("hex data longer than %zu bytes", max);
	for (size_t i = 0; i < n; i++)
		out[i] = hexval(h[2 * i]) << 4 | hexval(h[2 * i + 1]);
	return n;
}

static void parse_src(struct src *s, const char *t)
{
	if (t[0] == 'a' && t[1] == ':') {
		s->aoff = strtoull(t + 2, NULL, 0);
		if (s->aoff >= PG)
			die("buffer offset %s: at most a page", t);
		return;
	}
	if (t[0] == 'h' && t[1] == ':') {
		s->kind = 'h';
		s->seqlen = unhex(t + 2, s->seq, sizeof s->seq);
	} else if (t[0] == 'r' && t[1] == ':') {
		s->kind = 'r';
		s->seed = strtoul(t + 2, NULL, 0);
	} else if (t[0] == 'm' && t[1] == ':') {
		char *e;
		s->kind = 'm';
		s->map = strtol(t + 2, &e, 10);
		if (*e != ':' || s->map < 0 || s->map >= MAXSLOT)
			die("bad buffer %s", t);
		s->off = strtoull(e + 1, NULL, 0);
	} else {
		s->kind = 'b';
		s->byte = strtol(t, NULL, 0);
	}
}

/* The digest of the bytes a step read (src/lib/data.ts dataDigest): hex up to 64 bytes, else FNV-1a. */
struct digest { unsigned char head[64]; uint64_t n; uint32_t h; };

static void digest_add(struct digest *d, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++, d->n++) {
		if (d->n < 64)
			d->head[d->n] = b[i];
		d->h = (d->h ^ b[i]) * 0x01000193U;
	}
}

static void digest_out(struct digest *d)
{
	out(",\"d\":\"");
	if (d->n <= 64)
		for (uint64_t i = 0; i < d->n; i++)
			out("%02x", d->head[i]);
	else
		out("fnv1a32:%08x len %llu", d->h, (unsigned long long)d->n);
	out("\"");
}

#define DATA_CAPTURE_MAX (1UL << 20)

/* read/write/pread/pwrite in chunks, as the model's transfer(): bytes moved or the first -errno.
 * Reads into the runner's buffer of at most DATA_CAPTURE_MAX bytes print their data digest. */
static long long transfer(int op, int fd, size_t len, size_t chunk, off_t off, struct src *s)
{
	size_t done = 0;
	struct digest dg = { .h = 0x811c9dc5U };
	int reading = op == 'r' || op == 'R';
	if (chunk == 0)
		chunk = len ? len : 1;
	while (done < len) {
		size_t l = len - done < chunk ? len - done : chunk;
		unsigned char *b = s->kind == 'm' ? (unsigned char *)(maps[s->map].addr + s->off + done) : buf + s->aoff;
		if (s->kind != 'm' && s->aoff + l > bufsz)
			die("%zu bytes at buffer offset %zu: buffer of %zu", l, s->aoff, bufsz);
		ssize_t r;
		if (!reading && s->kind == 'b')
			memset(b, s->byte, l);
		for (size_t i = 0; !reading && (s->kind == 'h' || s->kind == 'r') && i < l; i++)
			b[i] = s->kind == 'h' ? s->seq[(done + i) % s->seqlen] : data_byte(s->seed, done + i);
		switch (op) {
		case 'r': r = read(fd, b, l); break;
		case 'R': r = pread(fd, b, l, off + done); break;
		case 'w': r = write(fd, b, l); break;
		default: r = pwrite(fd, b, l, off + done); break;
		}
		if (r < 0)
			return done > 0 ? (long long)done : -errno;
		if (reading && s->kind != 'm' && len <= DATA_CAPTURE_MAX)
			digest_add(&dg, b, r);
		done += r;
		if ((size_t)r < l)
			break;
	}
	if (reading && s->kind != 'm' && len <= DATA_CAPTURE_MAX)
		digest_out(&dg);
	return done;
}

static int page_byte(unsigned long page) { int b = (page * 7 + 1) & 0xff; return b ? b : 1; }

/* create: open O_CREAT|O_RDWR|O_TRUNC, write every page with its page_byte (or ftruncate). */
static long long do_create(const char *path, size_t size, int written, size_t chunk, int sync, int mode)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, mode);
	if (fd < 0)
		return -errno;
	long long r = 0;
	if (!written)
		r = sysret(ftruncate(fd, size));
	for (size_t off = 0; written && off < size && r >= 0; off += chunk) {
		size_t l = size - off < chunk ? size - off : chunk;
		for (size_t i = 0; i < l;) {
			unsigned long page = (off + i) / PG;
			size_t end = (page + 1) * PG - off;
			if (end > l)
				end = l;
			memset(buf + i, page_byte(page), end - i);
			i = end;
		}
		ssize_t w = pwrite(fd, buf, l, off);
		r = w < 0 ? -errno : (size_t)w != l ? -EIO : 0;
	}
	if (r >= 0 && sync)
		r = sysret(fsync(fd));
	long long c = sysret(close(fd));
	return r < 0 ? r : c;
}

/* One access step: loads or stores at count addresses (a strided range or a page list), stopping
 * at the first signal; the result is the count, or -signo with the page index. */
static void do_access(struct res *o, struct map *m, int write, int byte, char **pages, long count,
		      size_t off, size_t stride, int desc)
{
	volatile long j = 0;
	volatile uintptr_t a = 0;
	if (sigsetjmp(jb, 1)) {
		o->r = -sig_no;
		o->sig = sig_no;
		o->page = (long)((a - m->addr) / PG);
		return;
	}
	for (; j < count; j++) {
		long k = desc ? count - 1 - j : j;
		a = m->addr + (pages ? strtoull(pages[k], NULL, 0) * PG : off + k * stride);
		armed = 1;
		if (write)
			*(volatile unsigned char *)a = byte;
		else
			(void)*(volatile unsigned char *)a;
		armed = 0;
	}
	o->r = count;
}

/* load (kind 'l', the byte read), store ('s', 0) or a cache-line flush loop ('f', 0). */
static void do_touch(struct res *o, struct map *m, int kind, size_t off, size_t len, int arg)
{
	volatile uintptr_t a = m->addr + off;
	if (sigsetjmp(jb, 1)) {
		o->r = -sig_no;
		o->sig = sig_no;
		o->page = (long)((a - m->addr) / PG);
		return;
	}
	armed = 1;
	if (kind == 'l') {
		o->r = *(volatile unsigned char *)a;
	} else if (kind == 's') {
		*(volatile unsigned char *)a = arg;
		o->r = 0;
	} else {
		uintptr_t end = m->addr + off + len;
		for (a = (m->addr + off) & ~63UL; a < end; a += 64) {
			if (arg == 0)
				asm volatile("clwb %0" : "+m"(*(volatile char *)a));
			else if (arg == 1)
				asm volatile("clflushopt %0" : "+m"(*(volatile char *)a));
			else
				asm volatile("clflush %0" : "+m"(*(volatile char *)a));
		}
		o->r = 0;
	}
	armed = 0;
}

/* Page index of the faulting address in whichever scenario mapping holds it (else in m). */
static long sig_page(struct map *m)
{
	for (int i = 0; i < MAXSLOT; i++)
		if (maps[i].live && sig_addr >= maps[i].addr && sig_addr < maps[i].addr + maps[i].len)
			return (long)((sig_addr - maps[i].addr) / PG);
	return (long)((sig_addr - m->addr) / PG);
}

typedef uint16_t __attribute__((aligned(1))) u16u;
typedef uint32_t __attribute__((aligned(1))) u32u;
typedef uint64_t __attribute__((aligned(1))) u64u;

/* One mov of sz (1, 2, 4, 8) bytes at m+off, possibly across a page boundary: a load prints its
 * bytes (d) and returns the little-endian value (8 for 8-byte loads); a store writes v. */
static void do_wide(struct res *o, struct map *m, int store, size_t off, size_t sz, unsigned char *v)
{
	volatile uintptr_t a = m->addr + off;
	uint64_t x = 0;
	if (sigsetjmp(jb, 1)) {
		o->r = -sig_no;
		o->sig = sig_no;
		o->page = sig_page(m);
		return;
	}
	memcpy(&x, v, 8);
	armed = 1;
	if (store) {
		if (sz == 1) *(volatile uint8_t *)a = x;
		else if (sz == 2) *(volatile u16u *)a = x;
		else if (sz == 4) *(volatile u32u *)a = x;
		else *(volatile u64u *)a = x;
	} else {
		if (sz == 1) x = *(volatile uint8_t *)a;
		else if (sz == 2) x = *(volatile u16u *)a;
		else if (sz == 4) x = *(volatile u32u *)a;
		else x = *(volatile u64u *)a;
	}
	armed = 0;
	o->r = 0;
	if (!store) {
		struct digest dg = { .h = 0x811c9dc5U };
		unsigned char b[8];
		memcpy(b, &x, 8);
		digest_add(&dg, b, sz);
		digest_out(&dg);
		o->r = sz == 8 ? 8 : (long long)x;
	}
}

/* memset (from == NULL: byte) or memcpy (from m2 at soff) as a forward byte loop, the model's order. */
static void do_mem(struct res *o, struct map *m, struct map *from, size_t off, size_t soff, size_t len, int byte)
{
	volatile size_t i = 0;
	if (sigsetjmp(jb, 1)) {
		o->r = -sig_no;
		o->sig = sig_no;
		o->page = sig_page(m);
		return;
	}
	armed = 1;
	for (; i < len; i++) {
		unsigned char c = from ? *(volatile unsigned char *)(from->addr + soff + i) : byte;
		*(volatile unsigned char *)(m->addr + off + i) = c;
	}
	armed = 0;
	o->r = len;
}

static long long do_mmap(int ms, int fdslot, size_t len, int prot, int flags, long long addr, off_t off)
{
	int fd = fdslot < 0 ? -1 : fds[fdslot];
	void *want = addr < 0 ? NULL : (void *)(uintptr_t)(addr + shift);
	int punch = addr >= 0 && !(flags & MAP_FIXED);
	if (punch)
		gaps((uintptr_t)want, (uintptr_t)want + len, 1);
	void *p = mmap(want, len, prot, flags, fd, off);
	int e = errno;
	if (p != MAP_FAILED) {
		maps[ms].live = 1;
		maps[ms].addr = (uintptr_t)p;
		maps[ms].len = len;
	}
	if (punch)
		gaps((uintptr_t)want, (uintptr_t)want + len, 0);
	if (p == MAP_FAILED)
		return -e;
	return (long long)((uintptr_t)p - ((uintptr_t)p >= resv_lo && (uintptr_t)p < resv_hi ? shift : 0));
}

/* mremap of [off, off + oldlen) of map m. Where the model moved the range (place, scenario
 * address) and that is not the old address, the move goes there with MREMAP_FIXED; a grow in
 * place needs the reservation after the range out of the way first. The map follows the range
 * as in the model (src/scenario/steps/procs.ts); what is no longer mapped is reserved again. */
static long long do_mremap(struct map *m, size_t off, size_t oldlen, size_t newlen, int flags,
			   long long na, long long place)
{
	uintptr_t a = m->addr + off;
	void *target = na >= 0 ? (void *)(uintptr_t)(na + shift) : NULL;
	int punch = 0;
	gaps(a, a + oldlen, 1); /* what the scenario does not map there is not mapped for the kernel either */
	if (place >= 0 && (uintptr_t)(place + shift) != a && (flags & MREMAP_MAYMOVE)) {
		flags |= MREMAP_FIXED;
		target = (void *)(uintptr_t)(place + shift);
	} else if (!(flags & MREMAP_FIXED) && newlen > oldlen) {
		punch = 1;
		gaps(a + oldlen, a + newlen, 1);
	}
	void *p = mremap((void *)a, oldlen, newlen, flags, target);
	int e = errno;
	if (p != MAP_FAILED) {
		if (off == 0 && oldlen >= m->len) {
			m->addr = (uintptr_t)p;
			m->len = newlen;
		} else if (off + newlen <= m->len && (uintptr_t)p == a) {
			m->len = off + newlen;
		}
	}
	if (punch)
		gaps(a + oldlen, a + newlen, 0);
	if (p == MAP_FAILED || !(flags & MREMAP_DONTUNMAP))
		gaps(a, a + oldlen, 0);
	if (p == MAP_FAILED)
		return -e;
	uintptr_t r = (uintptr_t)p;
	return (long long)(r - (r >= resv_lo && r < resv_hi ? shift : 0));
}

static int fault_around_set(unsigned long long v)
{
	char s[32];
	snprintf(s, sizeof s, "%llu", v);
	return put_str("/sys/kernel/debug/fault_around_bytes", s);
}

/* The steps of processes, mremap and the mlock family; 0 when `t` is none of them. */
static int exec_proc_step(struct res *o, char **t, int n, int F, struct map *m)
{
	const char *op = t[0];
	if (!strcmp(op, "fork")) {
		o->r = do_fork(F);
		o->forked = 1;
	} else if (!strcmp(op, "exit")) {
		exit_status = (int)num(t, 1, n);
		exiting = 1;
	} else if (!strcmp(op, "waitpid")) {
		int st = 0;
		pid_t r = waitpid(shm->pid[F] > 0 ? shm->pid[F] : 0x7ffffff0, &st, 0);
		o->r = r < 0 ? -errno : WIFEXITED(st) ? WEXITSTATUS(st) : -EINTR;
	} else if (!strcmp(op, "mremap")) {
		o->r = do_mremap(m, num(t, 2, n), num(t, 3, n), num(t, 4, n), (int)num(t, 5, n),
				 (long long)num(t, 6, n) - 1, (long long)num(t, 7, n) - 1);
	} else if (!strcmp(op, "mlock")) {
		void *a = (void *)(m->addr + num(t, 2, n));
		size_t l = num(t, 3, n);
		unsigned f = (unsigned)num(t, 4, n);
		o->r = sysret(f ? mlock2(a, l, f) : mlock(a, l));
	} else if (!strcmp(op, "munlock")) {
		o->r = sysret(munlock((void *)(m->addr + num(t, 2, n)), num(t, 3, n)));
	} else if (!strcmp(op, "mlockall")) {
		o->r = sysret(mlockall((int)num(t, 1, n)));
	} else if (!strcmp(op, "munlockall")) {
		o->r = sysret(munlockall());
	} else {
		return 0;
	}
	return 1;
}

/* Runs one step (tokens after "step I"); fills o. */
static void exec_step(struct res *o, char **t, int n)
{
	const char *op = t[0];
	int F = n > 1 && strcmp(op, "fence") && strcmp(op, "sleep") && strcmp(op, "report") && strcmp(op, "setup")
		&& strcmp(op, "dropcaches") && strcmp(op, "setknob") && strcmp(op, "exit") && strcmp(op, "mlockall")
		&& strcmp(op, "remount") ? slot(t, 1, n) : 0;
	int fd = fds[F];
	struct map *m = &maps[F];
	o->r = 0;
	if (!strcmp(op, "create")) {
		paths[F].used = 1;
		o->r = do_create(paths[F].real, num(t, 2, n), !strcmp(t[3], "W"), num(t, 4, n), num(t, 5, n), num(t, 6, n));
	} else if (!strcmp(op, "open")) {
		int p = slot(t, 2, n);
		int r = open(paths[p].real, (int)num(t, 3, n), 0644);
		struct stat st;
		fds[F] = r;
		if (r >= 0 && fstat(r, &st) == 0 && !S_ISDIR(st.st_mode)) /* reports list regular files */
			paths[p].used = 1;
		o->r = sysret(r);
	} else if (!strcmp(op, "close")) {
		o->r = sysret(close(fd));
		if (o->r == 0)
			fds[F] = -1;
	} else if (!strcmp(op, "read") || !strcmp(op, "write") || !strcmp(op, "pread") || !strcmp(op, "pwrite")) {
		int c = op[0] == 'p' ? (op[1] == 'r' ? 'R' : 'W') : op[0];
		off_t off = op[0] == 'p' ? num(t, 4, n) : 0;
		int si = op[0] == 'p' ? 5 : 4; /* the source (writes) or the optional buffer (reads) */
		static struct src sp;
		memset(&sp, 0, sizeof sp);
		parse_src(&sp, si < n ? t[si] : "0");
		for (int j = si + 1; j < n; j++) /* a:N after the source (writes) or the buffer (reads) */
			parse_src(&sp, t[j]);
		if ((c == 'w' || c == 'W') && si >= n)
			die("%s: no data source", op);
		o->r = transfer(c, fd, num(t, 2, n), num(t, 3, n), off, &sp);
		o->state = sp.kind == 'm';
	} else if (!strcmp(op, "ftruncate")) {
		o->r = sysret(ftruncate(fd, num(t, 2, n)));
	} else if (!strcmp(op, "fallocate")) {
		o->r = sysret(fallocate(fd, num(t, 2, n), num(t, 3, n), num(t, 4, n)));
	} else if (!strcmp(op, "fsync") || !strcmp(op, "fdatasync")) {
		o->r = sysret(op[1] == 's' ? fsync(fd) : fdatasync(fd));
	} else if (!strcmp(op, "remount")) {
		/* mount(2) MS_REMOUNT on the root of the run's own filesystem; read-only with MS_RDONLY */
		if (n < 3)
			die("remount needs a root and 0|1");
		o->r = sysret(mount(NULL, t[1], NULL, MS_REMOUNT | (num(t, 2, n) ? MS_RDONLY : 0), NULL));
	} else if (!strcmp(op, "mkdir")) {
		o->r = sysret(mkdir(paths[F].real, 0755));
	} else if (!strcmp(op, "unlink")) {
		o->r = sysret(unlink(paths[F].real));
	} else if (!strcmp(op, "stat")) {
		struct stat st;
		o->r = sysret(stat(paths[F].real, &st));
		if (o->r == 0)
			out(",\"stat\":{\"size\":%lld,\"blocks\":%lld}", (long long)st.st_size, (long long)st.st_blocks);
	} else if (!strcmp(op, "mmap")) {
		long long fs = (long long)num(t, 2, n) - 1; /* fd slot + 1, 0 for none */
		long long addr = (long long)num(t, 6, n) - 1;
		o->r = do_mmap(F, (int)fs, num(t, 3, n), num(t, 4, n), num(t, 5, n), addr, num(t, 7, n));
		if (o->r >= 0)
			out(",\"va2m\":%lu", (unsigned long)(maps[F].addr % PMD_BYTES));
	} else if (!strcmp(op, "munmap")) {
		uintptr_t a = m->addr + num(t, 2, n);
		size_t l = num(t, 3, n);
		o->r = sysret(munmap((void *)a, l));
		if (o->r == 0 && a <= m->addr && a + l >= m->addr + m->len) {
			m->live = 0;
			gaps(m->addr, m->addr + m->len, 0);
		}
	} else if (!strcmp(op, "mprotect")) {
		o->r = sysret(mprotect((void *)(m->addr + num(t, 2, n)), num(t, 3, n), num(t, 4, n)));
	} else if (!strcmp(op, "madvise")) {
		o->r = sysret(madvise((void *)(m->addr + num(t, 2, n)), num(t, 3, n), num(t, 4, n)));
	} else if (!strcmp(op, "msync")) {
		o->r = sysret(msync((void *)(m->addr + num(t, 2, n)), num(t, 3, n), num(t, 4, n)));
	} else if (!strcmp(op, "accessr")) {
		do_access(o, m, t[2][0] == 'W', num(t, 3, n), NULL, num(t, 6, n), num(t, 4, n), num(t, 5, n), t[7][0] == 'D');
		o->state = 1;
	} else if (!strcmp(op, "accessp")) {
		long c = num(t, 5, n);
		if (6 + c > n)
			die("accessp: %ld pages announced, %d given", c, n - 6);
		do_access(o, m, t[2][0] == 'W', num(t, 3, n), t + 6, c, 0, 0, t[4][0] == 'D');
		o->state = 1;
	} else if (!strcmp(op, "load") || !strcmp(op, "store")) {
		do_touch(o, m, op[0], num(t, 2, n), 1, op[0] == 's' ? (int)num(t, 3, n) : 0);
		o->state = 1;
	} else if (!strcmp(op, "loadw") || !strcmp(op, "storew")) {
		static unsigned char v[8];
		size_t sz = num(t, 3, n);
		if (op[0] == 's' && (n < 5 || unhex(t[4], v, 8) != sz))
			die("storew: %zu bytes announced", sz);
		do_wide(o, m, op[0] == 's', num(t, 2, n), sz, v);
		o->state = 1;
	} else if (!strcmp(op, "memset")) {
		do_mem(o, m, NULL, num(t, 2, n), 0, num(t, 3, n), (int)num(t, 4, n));
		o->state = 1;
	} else if (!strcmp(op, "memcpy")) {
		do_mem(o, m, &maps[slot(t, 3, n)], num(t, 2, n), num(t, 4, n), num(t, 5, n), 0);
		o->state = 1;
	} else if (!strcmp(op, "mincore")) {
		size_t l = num(t, 3, n), pages = (l + PG - 1) / PG;
		if (pages > bufsz)
			die("mincore: vector of %zu pages, buffer %zu", pages, bufsz);
		o->r = sysret(mincore((void *)(m->addr + num(t, 2, n)), l, buf));
		if (o->r == 0) {
			struct digest dg = { .h = 0x811c9dc5U };
			for (size_t i = 0; i < pages; i++) {
				unsigned char b = buf[i] & 1;
				o->r += b;
				digest_add(&dg, &b, 1);
			}
			digest_out(&dg);
		}
	} else if (!strcmp(op, "flush")) {
		int insn = !strcmp(t[4], "clwb") ? 0 : !strcmp(t[4], "clflushopt") ? 1 : 2;
		do_touch(o, m, 'f', num(t, 2, n), num(t, 3, n), insn);
	} else if (!strcmp(op, "fence")) {
		if (!strcmp(t[1], "sfence"))
			asm volatile("sfence" ::: "memory");
		else
			asm volatile("mfence" ::: "memory");
	} else if (!strcmp(op, "dropcaches")) {
		o->r = put_str("/proc/sys/vm/drop_caches", t[1]);
	} else if (!strcmp(op, "setknob")) {
		o->r = fault_around_set(num(t, 2, n));
	} else if (!strcmp(op, "sleep")) {
		unsigned long long ns = num(t, 1, n);
		struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };
		nanosleep(&ts, NULL);
	} else if (!strcmp(op, "report")) {
		o->state = 1;
	} else if (!strcmp(op, "setup")) {
		out(",\"setup\":true");
	} else if (!exec_proc_step(o, t, n, F, m)) {		die("unknown step %s", op);
	}
	if (o->r < 0 && !o->sig)
		o->err = (int)-o->r;
}

/* ---------------------------------------------------------------- main */
#define MAXTOK (1 << 21)
static char **tokv;

static int split(char *line, char **t, int max)
{
	int n = 0;
	for (char *s = strtok(line, " "); s && n < max; s = strtok(NULL, " "))
		t[n++] = s;
	return n;
}

static void header(const char *fs, long fab0)
{
	struct utsname u;
	uname(&u);
	static char thp[256];
	if (slurp("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp) < 0)
		thp[0] = 0;
	thp[strcspn(thp, "\n")] = 0;
	out("{\"hdr\":1,\"release\":");
	ostr(u.release);
	out(",\"fs\":");
	ostr(fs);
	out(",\"root\":%s,\"fault_around_bytes\":%ld,\"thp\":", is_root ? "true" : "false", fab0);
	ostr(thp);
	out(",\"soft_dirty\":%s", soft_dirty ? "true" : "false");
	out(",\"shift\":%lld,\"zero_pfn_known\":%s,\"huge_zero_pfn_known\":%s,\"pmem_ranges\":%d}\n",
	    (long long)shift, zero_pfn ? "true" : "false", hzero_pfn ? "true" : "false", npmem);
}

static void run_step(char **t, int n)
{
	struct rusage a, b;
	struct res o = { 0 };
	out("{\"i\":%s,\"op\":\"%s\"", t[1], t[2]);
	mark('B', t[1]);
	getrusage(RUSAGE_SELF, &a);
	exec_step(&o, t + 2, n - 2);
	getrusage(RUSAGE_SELF, &b);
	if (o.forked && child_started) {
		olen = 0; /* the child prints nothing for its parent's fork step (do_fork flushed before) */
		return;
	}
	mark('E', t[1]);
	if (o.forked)
		b = shm->ru[0]; /* taken right after the fork syscall */
	out(",\"r\":%lld", o.r);
	if (o.sig)
		out(",\"sig\":\"%s\",\"sp\":%ld", signame(o.sig), o.page);
	else if (o.err)
		out(",\"e\":\"%s\"", errname(o.err));
	out(",\"min\":%ld,\"maj\":%ld", b.ru_minflt - a.ru_minflt, b.ru_majflt - a.ru_majflt);
	if (o.state)
		dump_state();
	out("}\n");
	oflush();
}

static char *load_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot open %s: %s", path, errname(errno));
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *text = malloc(sz + 1);
	if (!text || fread(text, 1, sz, f) != (size_t)sz)
		die("cannot read %s", path);
	text[sz] = 0;
	fclose(f);
	return text;
}

/* Touch 256 KiB of stack, so steps and signal frames find it mapped. */
static void warm_stack(void)
{
	volatile char s[256 * 1024];
	for (size_t i = 0; i < sizeof s; i += PG)
		s[i] = 0;
}

/* The process slot a step line belongs to: "step I @P ..." is P's, any other step main's. */
static int line_owner(const char *l)
{
	const char *sp = strchr(l, ' ');
	if (!sp || !(sp = strchr(sp + 1, ' ')) || sp[1] != '@')
		return 0;
	int p = atoi(sp + 2);
	if (p < 0 || p >= MAXPROC)
		die("bad process slot in: %.40s", l);
	return p;
}

static size_t next_step_line(char **lines, size_t j, size_t k)
{
	while (j < k && (lines[j][0] == 0 || lines[j][0] == '#'))
		j++;
	return j;
}

/* No step is left: main prints the end; every other live process leaves. */
static void end_all(void)
{
	oflush();
	for (int p = 1; p < MAXPROC; p++)
		if (shm->live[p] && p != me)
			pass_baton(p, BATON_END);
	if (me != 0)
		pass_baton(0, BATON_END);
}

static uintptr_t resv_want;
static size_t resv_len;

/* Header lines (before the steps): bufsize, reserve, path, mapname, knob. */
static void directive(char **t, int n, long *fab0)
{
	if (!strcmp(t[0], "daxsim-run")) {
		if (n < 2 || strcmp(t[1], "1"))
			die("unsupported encoding version (want daxsim-run 1)");
	} else if (!strcmp(t[0], "bufsize")) {
		bufsz = num(t, 1, n);
	} else if (!strcmp(t[0], "reserve")) {
		resv_want = num(t, 1, n);
		resv_len = num(t, 2, n);
	} else if (!strcmp(t[0], "path")) {
		int s = slot(t, 1, n);
		if (n < 4)
			die("path line needs slot, real path and scenario path");
		snprintf(paths[s].real, sizeof paths[s].real, "%s", t[2]);
		snprintf(paths[s].shown, sizeof paths[s].shown, "%s", t[3]);
	} else if (!strcmp(t[0], "dir")) {
		if (n < 2 || (mkdir(t[1], 0755) && errno != EEXIST))
			die("mkdir %s: %s", n < 2 ? "?" : t[1], errname(errno));
	} else if (!strcmp(t[0], "ro")) {
		/* a read-only mount in the scenario: the harness mounted it read-write, remount it */
		if (n < 2 || mount(NULL, t[1], NULL, MS_REMOUNT | MS_RDONLY, NULL))
			die("remount %s read-only: %s", n < 2 ? "?" : t[1], errname(errno));
	} else if (!strcmp(t[0], "mapname")) {
		int s = slot(t, 1, n);
		snprintf(maps[s].name, sizeof maps[s].name, "%s", n > 2 ? t[2] : "?");
	} else if (!strcmp(t[0], "proc")) {
		unsigned long long p = num(t, 1, n);
		if (p >= MAXPROC)
			die("proc slot %llu out of range", p);
		snprintf(procname[p], sizeof procname[p], "%s", n > 2 ? t[2] : "?");
	} else if (!strcmp(t[0], "knob")) {
		if (n < 3 || strcmp(t[1], "fault_around_bytes"))
			die("unknown knob line");
		int r = fault_around_set(num(t, 2, n));
		if (r && *fab0 < 0)
			out("{\"warning\":\"fault_around_bytes %s cannot be set or read here (%s): the kernel's own value stays\"}\n",
			    t[2], errname(-r));
		else if (r)
			die("setting fault_around_bytes: %s", errname(-r));
	} else {
		die("unknown line: %s", t[0]);
	}
}

/* Run again without glibc's rseq registration: after fork, the kernel's rseq update on the way
 * back to user space writes the (now write-protected) TLS page, a fault inside the measured step. */
static void without_rseq(char **argv)
{
	if (getenv("DAXSIM_RUNNER_NORSEQ"))
		return;
	setenv("GLIBC_TUNABLES", "glibc.pthread.rseq=0", 1);
	setenv("DAXSIM_RUNNER_NORSEQ", "1", 1);
	execv("/proc/self/exe", argv);
}

/* The page the processes share and one baton pipe per process slot. */
static void setup_procs(void)
{
	shm = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		die("mmap of the shared page: %s", errname(errno));
	memset(shm, 0, PG);
	shm->live[0] = 1;
	shm->pid[0] = getpid();
	for (int p = 0; p < MAXPROC; p++)
		if (pipe(baton[p]))
			die("pipe: %s", errname(errno));
}

/* The step lines [first, k): this process runs its own and passes the baton for the others'. */
static void run_steps(char **lines, size_t first, size_t k)
{
	for (size_t i = first; i < k; i++) {
		if (lines[i][0] == 0 || lines[i][0] == '#')
			continue;
		int owner = line_owner(lines[i]);
		if (owner != me) {
			oflush();
			pass_baton(owner, (long)i);
			long v = wait_baton();
			if (v == BATON_END)
				break;
			i = (size_t)v - 1;
			continue;
		}
		int n = split(lines[i], tokv, MAXTOK);
		if (n < 3 || strcmp(tokv[0], "step"))
			die("line %zu: expected a step line", i + 1);
		if (tokv[2][0] == '@') { /* step I @P OP ...: drop the owner token */
			tokv[2] = tokv[1];
			tokv[1] = tokv[0];
			run_step(tokv + 1, n - 1);
		} else {
			run_step(tokv, n);
		}
		if (child_started) { /* a new child: wait for its first step */
			child_started = 0;
			long v = wait_baton();
			i = (size_t)v - 1;
			continue;
		}
		if (child_forked_here) { /* the parent's pages are write-protected now */
			child_forked_here = 0;
			rewarm();
		}
		if (exiting) {
			shm->live[me] = 0;
			size_t j = next_step_line(lines, i + 1, k);
			if (j < k)
				pass_baton(line_owner(lines[j]), (long)j);
			else
				end_all();
			_exit(exit_status);
		}
	}
	if (me != 0) {
		end_all();
		_exit(0);
	}
	for (int p = 1; p < MAXPROC; p++)
		if (shm->live[p])
			pass_baton(p, BATON_END);
	while (wait(NULL) > 0)
		;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		die("usage: daxsim-runner FILE.run FS-LABEL");
	without_rseq(argv);
	is_root = geteuid() == 0;
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (getenv("DAXSIM_TRACE_MARKER"))
		marker_fd = open(getenv("DAXSIM_TRACE_MARKER"), O_WRONLY);
	long fab0 = -1;
	static char fb[64];
	if (slurp("/sys/kernel/debug/fault_around_bytes", fb, sizeof fb) > 0)
		fab0 = strtol(fb, NULL, 10);
	probe_env();
	char *text = load_file(argv[1]);
	size_t nl = 1;
	for (char *c = text; *c; c++)
		nl += *c == '\n';
	char **lines = calloc(nl, sizeof *lines);
	tokv = calloc(MAXTOK, sizeof *tokv);
	size_t k = 0;
	for (char *c = text, *start = text;; c++) {
		if (*c == '\n' || !*c) {
			int end = !*c;
			*c = 0;
			lines[k++] = start;
			start = c + 1;
			if (end)
				break;
		}
	}
	size_t first = 0;
	for (; first < k; first++) {
		char *l = lines[first];
		if (!strncmp(l, "step ", 5))
			break;
		char copy[1024];
		snprintf(copy, sizeof copy, "%s", l);
		int n = split(copy, tokv, 8);
		if (n > 0 && tokv[0][0] != '#')
			directive(tokv, n, &fab0);
	}
	for (int i = 0; i < MAXSLOT; i++)
		fds[i] = -1;
	if (bufsz < PG)
		bufsz = PG;
	/* page-aligned, so O_DIRECT steps see the alignment the model assumes (plus any a:N) */
	if (posix_memalign((void **)&buf, PG, bufsz))
		buf = NULL;
	mcvec = malloc(MAXPAGES);
	pmvec = malloc(MAXPAGES * 8);
	for (int i = 0; i < 7; i++)
		rle[i] = malloc(MAXPAGES);
	if (!buf || !mcvec || !pmvec || !rle[6])
		die("out of memory");
	memset(buf, 0, bufsz);
	memset(tokv, 0, MAXTOK * sizeof *tokv);
	oflush();
	memset(obuf, 0, sizeof obuf);
	memset(smapsbuf, 0, sizeof smapsbuf);
	setup_procs();
	setup_signals();
	warm_stack();
	if (mlockall(MCL_CURRENT))
		out("{\"warning\":\"mlockall: %s (the runner's own pages may fault inside steps)\"}\n", errname(errno));
	if (resv_len)
		reserve(resv_want, resv_len); /* after mlockall: the reservation stays unlocked */
	header(argv[2], fab0);
	oflush();
	run_steps(lines, first, k);
	out("{\"end\":true}\n");
	oflush();
	if (fab0 > 0)
		fault_around_set(fab0);
	return 0;
}
