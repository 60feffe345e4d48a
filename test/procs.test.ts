// fork/exit/waitpid, mremap and the mlock family (issue 12), at the API and scenario level. The
// figures of the example scenarios are checked exactly against real kernels by
// test/oracle-runs.test.ts (fork-cow, mremap-move, mlock: 6.18 host tmpfs and ext4, 6.1 guest
// tmpfs; dax-fork-mremap: 6.1 guest ext4 -o dax). Here: the bookkeeping those runs cannot show
// (references, mapcounts, RSS, page tables, what moved how) and the kernel's errno tables
// (mm/mremap.c, mm/mlock.c, kernel/exit.c; 6.1 and 6.18 agree on these).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type Process } from '../src/api/machine.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';
import { pteTableOf, pteIndex } from '../src/mm/pgtable.ts';
import { mremapStats } from '../src/mm/mremap.ts';
import * as C from '../src/mm/constants.ts';
import { ECHILD, EINVAL, EFAULT, ENOMEM } from '../src/lib/errno.ts';

const KB = 1024, MB = 1024 * 1024;
const RW = C.PROT_READ | C.PROT_WRITE;

function machine(profile = 'linux-6.18'): { m: Machine; p: Process } {
  const m = new Machine({ profile, memoryBytes: 1 << 30 });
  assert.equal(m.mount('/mnt', 'tmpfs'), 0);
  return { m, p: m.process('main') };
}

function pfnAt(p: Process, addr: number): number {
  const t = pteTableOf(p.kp.mm.pgd, addr);
  return t && t.flags[pteIndex(addr)] !== 0 ? t.pfn[pteIndex(addr)]! : -1;
}

test('fork shares anonymous pages copy-on-write: two references and two mapcounts, child RSS; exit gives all back', () => {
  const { m, p } = machine();
  const freeBefore = m.meminfo().MemFree!;
  const a = p.mmap(0, 64 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  p.access(a, 64 * KB, 4096, true, false, 3);
  const pfn = pfnAt(p, a);
  const f = m.k.frames;
  const c = m.fork(p, 'c');
  assert.equal(pfnAt(c, a), pfn, 'the child maps the same page (copy_present_pte)');
  assert.equal(f.refcount[pfn], 2);
  assert.equal(f.mapcount[pfn], 2);
  assert.equal(c.kp.mm.rssAnon, 16, 'the child counts the shared pages in its RSS');
  assert.equal(c.load(a), 3);
  const r0 = c.rusage().minflt;
  assert.equal(c.store(a, 4), 0);
  assert.equal(c.rusage().minflt - r0, 1, 'the child write takes a write-protect fault');
  assert.notEqual(pfnAt(c, a), pfn, '... that copies (wp_page_copy)');
  assert.equal(f.refcount[pfn], 1);
  assert.equal(p.load(a), 3, 'the parent keeps its data');
  assert.equal(c.exit(0), 0);
  assert.equal(c.kp.mm.vmas.length, 0);
  assert.equal(c.kp.mm.rssAnon, 0);
  assert.equal(c.kp.mm.pgtablePages, 0, 'exit_mmap freed every page table, and the PGD');
  for (let i = 1; i < 16; i++) assert.equal(f.mapcount[pfnAt(p, a + i * 4096)], 1);
  assert.equal(p.waitpid(c), 0);
  assert.equal(p.waitpid(c), -ECHILD, 'a reaped child is no child any more (do_wait)');
  assert.equal(p.munmap(a, 64 * KB), 0);
  // Everything is free again but the tables the parent's munmap keeps (its PGD's PUD and PMD pages).
  const tablesLeft = p.kp.mm.pgtablePages - 1;
  assert.equal(m.meminfo().MemFree, freeBefore - tablesLeft * 4);
});

test('fork copies no page table of a shared file mapping or of an anonymous one that was only read (vma_needs_copy)', () => {
  const { m, p } = machine();
  const fd = p.open('/mnt/f', C.O_RDWR | C.O_CREAT);
  assert.equal(p.ftruncate(fd, 64 * KB), 0);
  const sh = p.mmap(0, 64 * KB, RW, C.MAP_SHARED, fd, 0);
  const zr = p.mmap(0, 64 * KB, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  p.access(sh, 64 * KB, 4096, true);
  p.access(zr, 64 * KB, 4096, false);
  const c = m.fork(p, 'c');
  assert.equal(pfnAt(c, sh), -1, 'shared file mapping: the child refaults');
  assert.equal(pfnAt(c, zr), -1, 'zero-page PTEs only, no anon_vma: not copied');
  const r0 = c.rusage().minflt;
  c.access(zr, 64 * KB, 4096, false);
  assert.equal(c.rusage().minflt - r0, 16);
  assert.notEqual(pfnAt(p, sh), -1, 'the parent keeps its PTEs');
  const t = pteTableOf(p.kp.mm.pgd, sh)!;
  assert.ok((t.flags[pteIndex(sh)]! & C._PAGE_RW) !== 0, 'shared PTEs stay writable in the parent (not a COW mapping)');
});

test('MADV_DONTFORK leaves a VMA out of the child, MADV_WIPEONFORK gives it an empty one; WIPEONFORK is anonymous-only', () => {
  const { m, p } = machine();
  const df = p.mmap(0, 16 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  const wo = p.mmap(0, 16 * KB, C.PROT_READ, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  p.mprotect(wo, 16 * KB, RW);
  p.access(df, 16 * KB, 4096, true, false, 7);
  p.access(wo, 16 * KB, 4096, true, false, 7);
  assert.equal(p.madvise(df, 16 * KB, C.MADV_DONTFORK), 0);
  assert.equal(p.madvise(wo, 16 * KB, C.MADV_WIPEONFORK), 0);
  const fd = p.open('/mnt/g', C.O_RDWR | C.O_CREAT);
  p.ftruncate(fd, 4096);
  const fm = p.mmap(0, 4096, RW, C.MAP_PRIVATE, fd, 0);
  assert.equal(p.madvise(fm, 4096, C.MADV_WIPEONFORK), -EINVAL, 'madvise_vma_behavior: file mappings refuse it');
  const c = m.fork(p, 'c');
  assert.equal(c.vmaAt(df), null);
  assert.equal(c.load(df), -11, 'SIGSEGV in the child');
  assert.equal(c.load(wo), 0, 'the child reads zeroes');
  assert.equal(p.load(wo), 7);
});

test('the child inherits no memory lock and no mlockall(MCL_FUTURE) (dup_mmap, mm_init def_flags)', () => {
  const { m, p } = machine();
  const a = p.mmap(0, 16 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  assert.equal(p.mlockall(C.MCL_CURRENT | C.MCL_FUTURE), 0);
  assert.equal(p.madvise(a, 16 * KB, C.MADV_DONTNEED), -EINVAL);
  const c = m.fork(p, 'c');
  assert.equal(c.madvise(a, 16 * KB, C.MADV_DONTNEED), 0);
  const b = c.mmap(0, 16 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  assert.equal(c.vmaAt(b)!.flags & C.VM_LOCKED, 0);
  const pb = p.mmap(0, 16 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  assert.ok((p.vmaAt(pb)!.flags & C.VM_LOCKED) !== 0, 'the parent still has MCL_FUTURE');
});

test('mremap errno as mm/mremap.c checks them', () => {
  const { p } = machine();
  const a = p.mmap(0, 64 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS, -1, 0);
  const b = p.mmap(a - 64 * KB, 64 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED, -1, 0);
  assert.equal(b, a - 64 * KB);
  const cases: Array<[string, number, number]> = [
    ['unknown flag', p.mremap(a, 4096, 8192, 8), -EINVAL],
    ['FIXED without MAYMOVE', p.mremap(a, 4096, 8192, C.MREMAP_FIXED, 0x7f0000000000), -EINVAL],
    ['DONTUNMAP with another length', p.mremap(a, 4096, 8192, C.MREMAP_MAYMOVE | C.MREMAP_DONTUNMAP), -EINVAL],
    ['DONTUNMAP without MAYMOVE', p.mremap(a, 4096, 4096, C.MREMAP_DONTUNMAP), -EINVAL],
    ['unaligned address', p.mremap(a + 1, 4096, 8192, 0), -EINVAL],
    ['new length 0', p.mremap(a, 4096, 0, 0), -EINVAL],
    ['old range past the VMA', p.mremap(a, 128 * KB, 256 * KB, C.MREMAP_MAYMOVE), -EFAULT],
    ['no VMA at all', p.mremap(0x7e0000000000, 4096, 8192, C.MREMAP_MAYMOVE), -EFAULT],
    ['FIXED overlapping the old range', p.mremap(b, 64 * KB, 64 * KB, 3, b + 4096), -EINVAL],
    ['duplicating a private mapping (old_len 0)', p.mremap(a, 0, 4096, C.MREMAP_MAYMOVE), -EINVAL],
    ['grow with no room and no MAYMOVE', p.mremap(b, 64 * KB, 128 * KB, 0), -ENOMEM],
  ];
  for (const [what, got, want] of cases) assert.equal(got, want, what);
});

test('mremap moves page tables, not pages: whole PTE tables between aligned addresses, entries otherwise', () => {
  const { p } = machine();
  const a = p.mmap(0x7f0000000000, 2 * MB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED, -1, 0);
  p.access(a, 2 * MB, 4096, true, false, 9);
  const pfn = pfnAt(p, a + 4096);
  const before = { ...mremapStats };
  const b = p.mremap(a, 2 * MB, 2 * MB, C.MREMAP_MAYMOVE | C.MREMAP_FIXED, 0x7f0000400000);
  assert.equal(b, 0x7f0000400000);
  assert.equal(mremapStats.pmdTables - before.pmdTables, 1, 'move_normal_pmd');
  assert.equal(pfnAt(p, b + 4096), pfn);
  const c = p.mremap(b, 2 * MB, 2 * MB, C.MREMAP_MAYMOVE | C.MREMAP_FIXED, 0x7f0000801000);
  assert.equal(mremapStats.ptes - before.ptes, 512, 'move_ptes, one by one');
  const r0 = p.rusage().minflt;
  assert.equal(p.access(c, 2 * MB, 4096, true), 512);
  assert.equal(p.rusage().minflt - r0, 0, 'nothing refaults after a move');
  assert.equal(p.vmaAt(a), null, 'the old range is unmapped');
});

test('mremap grows in place when the room after is free, and a locked mapping grows populated', () => {
  const { p } = machine();
  const a = p.mmap(0x7f0000000000, 64 * KB, RW, C.MAP_PRIVATE | C.MAP_ANONYMOUS | C.MAP_FIXED | C.MAP_LOCKED, -1, 0);
  const r0 = p.rusage().minflt;
  assert.equal(p.mremap(a, 64 * KB, 128 * KB, 0), a);
  assert.equal(p.rusage().minflt - r0, 16, 'mm_populate of the new part (VM_LOCKED)');
  assert.equal(p.vmaAt(a)!.end, a + 128 * KB);
});

test('mlock errno and populate rules (mm/mlock.c, mm/gup.c populate_vma_page_range)', () => {
  const { p } = machine();
  const fd = p.open('/mnt/f', C.O_RDWR | C.O_CREAT);
  p.ftruncate(fd, 64 * KB);
  const pr = p.mmap(0, 64 * KB, RW, C.MAP_PRIVATE, fd, 0);
  assert.equal(p.mlock(pr, 64 * KB, 2), -EINVAL, 'mlock2: only MLOCK_ONFAULT');
  assert.equal(p.mlockall(0), -EINVAL);
  assert.equal(p.mlockall(C.MCL_ONFAULT), -EINVAL, 'MCL_ONFAULT alone');
  assert.equal(p.mlockall(8), -EINVAL);
  assert.equal(p.mlock(pr + 100, 10), 0, 'an unaligned start is rounded down');
  assert.equal(p.smaps(pr) && (p.smaps(pr) as Record<string, number>).Anonymous, 4, 'one page, COW-copied');
  assert.equal(p.munlock(pr, 64 * KB), 0);
  assert.equal(p.mlock(pr, 64 * KB, C.MLOCK_ONFAULT), 0);
  assert.equal((p.smaps(pr) as Record<string, number>).Anonymous, 4, 'MLOCK_ONFAULT populates nothing');
  assert.equal(p.msync(pr, 4096, C.MS_INVALIDATE), -16, 'EBUSY');
  assert.equal(p.munlockall(), 0);
  assert.equal(p.msync(pr, 4096, C.MS_INVALIDATE), 0);
  assert.equal(p.mlock(0x7e0000000000, 4096), -ENOMEM);
});

test('mlock leaves a DAX VMA unlocked (vma_is_dax) but populates it', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 1 << 30,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 256 * MB }] });
  assert.equal(m.mkfs('pmem0', 'ext4'), 0);
  assert.equal(m.mount('/mnt', 'ext4', 'pmem0', ['dax']), 0);
  const p = m.process('main');
  const fd = p.open('/mnt/f', C.O_RDWR | C.O_CREAT);
  p.fallocate(fd, 0, 0, 4 * MB);
  const a = p.mmap(0x7f0000000000, 4 * MB, RW, C.MAP_SHARED | C.MAP_FIXED, fd, 0);
  const r0 = p.rusage().minflt;
  assert.equal(p.mlock(a, 4 * MB), 0);
  assert.equal(p.rusage().minflt - r0, 2, 'two PMD faults');
  assert.equal(p.vmaAt(a)!.flags & C.VM_LOCKED, 0);
  assert.equal(p.madvise(a, 4 * MB, C.MADV_DONTNEED), 0);
});

const BASE = 'machine: { memoryBytes: 1GiB }\nmounts: [ { fs: tmpfs, target: /mnt } ]\nsteps:\n';

test('scenario errors: exit of main, waitpid for a running child, steps of an exited process, a taken name', () => {
  assert.throws(() => parseScenario(`${BASE}  - exit: {}\n`, 'e.yaml'), /main cannot exit/);
  assert.throws(() => parseScenario(`${BASE}  - fork: { child: main }\n`, 'e.yaml'), /name of its own/);
  const run = (steps: string): unknown => runScenario(parseScenario(BASE + steps, 'e.yaml'));
  assert.throws(() => run('  - fork: { child: c }\n  - waitpid: { child: c }\n'), /has not exited/);
  assert.throws(() => run('  - fork: { child: c }\n  - exit: { process: c }\n  - munlockall: { process: c }\n'),
    /has exited/);
  assert.throws(() => run('  - fork: { child: c }\n  - fork: { child: c }\n'), /exists already/);
  const ok = run('  - fork: { child: c }\n  - exit: { process: c, status: 3 }\n  - waitpid: { child: c }\n') as
    { steps: Array<{ result: unknown }> };
  assert.equal(ok.steps[2]!.result, 3, 'waitpid gives the exit status');
});

test('mremap of an unmapped range is EFAULT on 6.1 and 6.18, a shrink before 5.16 (profile mremapVmaFirst)', () => {
  // Measured: the last mremap of examples/mremap-move.yaml, EFAULT on the 6.18 host and the 6.1
  // guest (test/oracle-runs/mremap-move.*); the 4.x rule (shrink path first) is from mm/mremap.c.
  for (const [profile, want] of [['linux-6.18', -EFAULT], ['linux-6.1', -EFAULT], ['linux-4.15', 0x7e0000000000]] as const) {
    const { p } = machine(profile);
    assert.equal(p.mremap(0x7e0000000000, 8192, 4096, 0), want, profile);
    assert.equal(p.mremap(0x7e0000000000, 8192, 8192, 0), want, `${profile}: same length`);
  }
});
