/**
 * The ->map_pages contract (issue 10, "fault-around with one home and a checked contract"):
 * - a ->map_pages gets its PTE table from mapPagesPte, so one written for 3.14 (Kani's
 *   dax_map_pages, seed 000) runs on a 6.18 base, where do_fault_around leaves an empty PMD empty
 *   and filemap_map_pages installs the table itself (filemap_map_pmd, mm/filemap.c v6.18);
 * - do_fault_around checks after every call that the entries made present lie inside the window
 *   (or a whole folio, 6.18) and are writable only where vm_page_prot allows it, as
 *   Documentation/filesystems/locking.rst states the contract ("find and map pages associated
 *   with offsets from start_pgoff till end_pgoff");
 * - the whole-folio rule's i_size guard draws its line one page apart for finish_fault and
 *   fault-around, as 6.18 does (74207de2ba10).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine, type Process } from '../src/api/machine.ts';
import {
  O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_FIXED, _PAGE_RW,
} from '../src/mm/constants.ts';
import type { VmFault, VmOperations } from '../src/mm/mm.ts';
import { setPte } from '../src/mm/pgtable.ts';
import { pteAlloc } from '../src/mm/pgalloc.ts';
import { findFolio } from '../src/mm/pagemap.ts';
import { folioWithinISize, I_SIZE_FINISH_FAULT, I_SIZE_FAULT_AROUND } from '../src/mm/whole-folio.ts';
import { InvariantError } from '../src/lib/assert.ts';

const MiB = 2 ** 20, PG = 4096, A = 0x7f0000000000;

function daxMachine(profile: string, knobs: Record<string, unknown>): Machine {
  const m = new Machine({ profile, knobs, memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 4 * 2 ** 30 }] });
  assert.equal(m.mkfs('pmem0', 'ext4'), 0);
  assert.equal(m.mount('/mnt', 'ext4', 'pmem0', ['dax']), 0);
  return m;
}

function faults(p: Process, fn: () => void): number {
  const a = p.rusage();
  fn();
  const b = p.rusage();
  return b.minflt - a.minflt + b.majflt - a.majflt;
}

/** Read 4 MiB - 4 KiB of a written DAX file through a mapping 4 KiB off 2 MiB (PTE faults only). */
function kaniRead(profile: string, knobs: Record<string, unknown>): { faults: number; mapped: number } {
  const m = daxMachine(profile, knobs);
  const p = m.process();
  const fd = p.open('/mnt/f', O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < 4 * MiB; o += MiB) assert.equal(p.pwrite(fd, MiB, o, 0x5a), MiB);
  p.fsync(fd);
  const len = 4 * MiB - PG;
  const a = p.mmap(A + PG, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  const n = faults(p, () => assert.equal(p.access(a, len, PG, false), len / PG));
  for (const o of [0, 14 * PG, 15 * PG, len - PG]) assert.equal(p.load(a + o), 0x5a);
  return { faults: n, mapped: m.modelEvents().faultaroundPagesMapped! };
}

test('seed 000 (Kani) on a linux-6.18 base: dax_map_pages gets its PTE table and maps the window, no TypeError', () => {
  // Before mapPagesPte this threw "TypeError: Cannot read properties of null" on the first fault:
  // 6.18 leaves the PMD empty for ->map_pages to fill (filemap_map_pmd), and the 2014 post
  // assumed do_fault_around had installed the table (3.14).
  const on618 = kaniRead('linux-6.18', { daxMapPages: 'kani-2014' });
  const plain618 = kaniRead('linux-6.18', {});
  const asPosted = kaniRead('rfc-kani-2014', {});
  // 1023 pages, 64 windows of 16 (the first one 15): without map_pages one fault per page; with
  // it two per window (the exclusive end leaves each window's last page to its own fault), as
  // on the RFC's own 2014 base.
  assert.deepEqual(plain618, { faults: 1023, mapped: 0 });
  assert.deepEqual(on618, { faults: 127, mapped: 960 });
  assert.deepEqual(asPosted, on618);
});

type MapPages = (vmf: VmFault, start: number, end: number) => number;

/**
 * A cached tmpfs file of `pages` pages and a mapping of it whose ->map_pages is `bad`, which may
 * call the real one (filemap_map_pages) as `real`.
 */
function wrappedMapPages(profile: string, pages: number, flags: number,
  bad: (m: Machine, vmf: VmFault, start: number, end: number, real: MapPages) => number):
  { m: Machine; p: Process; a: number } {
  const m = new Machine({ profile, memoryBytes: 1 * 2 ** 30 });
  m.mount('/mnt/shm', 'tmpfs');
  const p = m.process();
  const fd = p.open('/mnt/shm/f', O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < pages * PG; o += PG) assert.equal(p.pwrite(fd, PG, o, 7), PG);
  const a = p.mmap(A, pages * PG, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
  const vma = p.kp.mm.findVma(a)!;
  const ops = vma.ops!;
  const wrapped: VmOperations = {
    ...ops,
    name: 'bad_map_pages',
    fault: (vmf) => ops.fault(vmf),
    mapPages: (vmf, start, end) => bad(m, vmf, start, end, ops.mapPages!),
  };
  vma.ops = wrapped;
  return { m, p, a };
}

/** Map file page `idx` at its own slot (as a too-wide ->map_pages would), with `prot`. */
function mapExtra(m: Machine, vmf: VmFault, idx: number, prot: number): void {
  const t = vmf.pte!;
  const head = findFolio(vmf.vma!.file!.inode.mapping, idx);
  assert.ok(head >= 0, `file page ${idx} is cached`);
  const pfn = head + (idx - m.k.frames.index[head]!);
  setPte(t, vmf.pteIndex + (idx - vmf.pgoff), pfn, prot);
  m.k.frames.mapcount[pfn] = m.k.frames.mapcount[pfn]! + 1;
}

test('a ->map_pages that maps a page past its window trips do_fault_around\'s check', () => {
  for (const profile of ['linux-6.1', 'linux-6.18']) {
    const { p, a } = wrappedMapPages(profile, 64, MAP_SHARED,
      (m, vmf, start, end, real) => {
        const r = real(vmf, start, end);
        mapExtra(m, vmf, end + 1, vmf.vma!.pageProt);
        return r;
      });
    const want = new RegExp('bad_map_pages ->map_pages installed 1 PTE\\(s\\) at slots 16-16, outside its window ' +
      '\\(slots 0-15, file pages 0-15\\) and not as part of a whole folio');
    assert.throws(() => p.load(a), (e: unknown) => e instanceof InvariantError && want.test(e.message), profile);
  }
});

test('a ->map_pages that stays inside its window passes the check (the wrapper alone changes nothing)', () => {
  const { m, p, a } = wrappedMapPages('linux-6.1', 64, MAP_SHARED,
    (_m, vmf, start, end, real) => real(vmf, start, end));
  // One fault per 16-page window, each mapping the whole window (the faulting page included).
  assert.equal(faults(p, () => p.access(a, 64 * PG, PG, false)), 4);
  assert.equal(m.modelEvents().faultaroundPagesMapped, 64);
});

test('a ->map_pages that maps a PTE into another page table trips the check', () => {
  // A 4 MiB file at a 2 MiB-aligned address: file page 512 is slot 0 of the next PTE table.
  const { p, a } = wrappedMapPages('linux-6.18', 1024, MAP_SHARED, (m, vmf, start, end, real) => {
    const r = real(vmf, start, end);
    const other = pteAlloc(m.k, vmf.vma!, vmf.vma!.start + 2 * MiB)!;
    assert.notEqual(other, vmf.pte);
    const head = findFolio(vmf.vma!.file!.inode.mapping, 512);
    setPte(other, 0, head + (512 - m.k.frames.index[head]!), vmf.vma!.pageProt);
    return r;
  });
  assert.throws(() => p.load(a), (e: unknown) => e instanceof InvariantError &&
    /bad_map_pages ->map_pages installed 1 PTE\(s\) outside the page table of the fault/.test(e.message));
});

test('a ->map_pages that maps a writable PTE on a read fault of a write-notify mapping trips the check', () => {
  // A shared tmpfs mapping needs no write-notify (vm_page_prot is writable: no trip); a private
  // one maps read-only, and a writable PTE there would skip the COW.
  const { p, a } = wrappedMapPages('linux-6.1', 64, MAP_PRIVATE, (m, vmf, start, end, real) => {
    assert.equal(vmf.vma!.pageProt & _PAGE_RW, 0);
    // The real one maps all but the window's last page; that one is mapped writable.
    const r = real(vmf, start, end - 1);
    mapExtra(m, vmf, end, vmf.vma!.pageProt | _PAGE_RW);
    return r;
  });
  assert.throws(() => p.load(a), (e: unknown) => e instanceof InvariantError &&
    /bad_map_pages ->map_pages installed a writable PTE on a read fault/.test(e.message));
});

/** linux-6.18 with 1 GiB of memory and ext4 (no DAX) at /mnt on a 1 GiB block device. */
function ext4Machine618(): Machine {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1 * 2 ** 30,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 2 ** 30 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  return m;
}

test('6.18 i_size guard (74207de2ba10): finish_fault maps a folio ending at the last page, fault-around not', () => {
  const m = ext4Machine618();
  const p = m.process();
  const fd = p.open('/mnt/f', O_RDWR | O_CREAT | O_TRUNC);
  // One 1 MiB pwrite: one 256-page folio (fgf_set_order), and the file ends with it.
  assert.equal(p.pwrite(fd, MiB, 0, 1), MiB);
  const inode = p.kp.fds[fd]!.inode;
  const head = findFolio(inode.mapping, 0);
  assert.equal(m.k.frames.order[head], 8);
  // finish_fault: file_end = DIV_ROUND_UP(i_size) = 256 >= folio_next_index 256.
  assert.equal(folioWithinISize(m.k, head, 256, I_SIZE_FINISH_FAULT), true);
  // filemap_map_pages: file_end = DIV_ROUND_UP(i_size) - 1 = 255 < 256.
  assert.equal(folioWithinISize(m.k, head, 256, I_SIZE_FAULT_AROUND), false);
  // One page more in the file and fault-around may map it whole too.
  assert.equal(folioWithinISize(m.k, head, 257, I_SIZE_FAULT_AROUND), true);
  // The fault: fault-around gives up on the empty PMD (can_map_large false), finish_fault maps
  // all 256 pages, so reading the file takes one fault.
  const a = p.mmap(A, MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.equal(faults(p, () => p.access(a, MiB, PG, false)), 1);
  assert.equal(m.modelEvents().faultaroundPagesMapped, 0);
});

/** linux-6.18 ext4, a 3 MiB file of 1 MiB folios (three 256-page folios), mapped 2 MiB-aligned. */
function largeFolioFile(bad?: (m: Machine, vmf: VmFault, start: number, end: number, real: MapPages) => number):
  { m: Machine; p: Process; a: number } {
  const m = ext4Machine618();
  const p = m.process();
  const fd = p.open('/mnt/f', O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < 3 * MiB; o += MiB) assert.equal(p.pwrite(fd, MiB, o, 1), MiB);
  const a = p.mmap(A, 3 * MiB, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  if (bad) {
    const vma = p.kp.mm.findVma(a)!;
    const ops = vma.ops!;
    vma.ops = { ...ops, name: 'bad_map_pages', fault: (vmf) => ops.fault(vmf),
      mapPages: (vmf, start, end) => bad(m, vmf, start, end, ops.mapPages!) };
  }
  return { m, p, a };
}

test('6.18 fault-around maps a whole folio beyond its window (357b92761d94) and the check accepts it', () => {
  const { m, p, a } = largeFolioFile();
  // Window: file pages 16-31; the folio 0-255 lies in the VMA and the page table, ends before EOF.
  assert.equal(faults(p, () => assert.equal(p.load(a + 20 * PG), 1)), 1);
  assert.equal(m.modelEvents().faultaroundPagesMapped, 256);
  assert.equal(faults(p, () => p.access(a, MiB, PG, false)), 0);
});

test('6.18: a ->map_pages that maps a page of a folio outside its window trips the check', () => {
  // 240 whole-folio pages outside the window (0-15, 32-255) are allowed, page 300 is not.
  const { p, a } = largeFolioFile((m, vmf, start, end, real) => {
    const r = real(vmf, start, end);
    // File page 300 (second folio, not reaching the window 16-31) at its own slot.
    mapExtra(m, vmf, 300, vmf.vma!.pageProt);
    return r;
  });
  assert.throws(() => p.load(a + 20 * PG), (e: unknown) => e instanceof InvariantError &&
    /installed 241 PTE\(s\) at slots 0-300, outside its window \(slots 16-31, file pages 16-31\)/.test(e.message));
});
