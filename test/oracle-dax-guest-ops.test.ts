/**
 * ext4 -o dax on the Linux 6.1 guest of ../shared/oracle/guest-harness (QEMU, memmap=1G!4G pmem),
 * against test/oracle/linux-6.1-guest-dax-ops.jsonl, made by test/oracle/daxguestprobe.c (two
 * boots, every scenario on a fresh filesystem, two reps each, every row identical; rep 1 of each
 * boot is kept). test/daxguestprobe.ts replays each scenario on the linux-6.1 profile and every
 * row must match: minor and major faults, thp_fault_fallback and thp_split_pmd, the signal and its
 * page, the syscall result and errno, the bytes read, smaps Rss / Anonymous / AnonHugePages /
 * FilePmdMapped and the VMA count, the THP VmFlags, st_blocks, and the PMD-eligible chunks. What
 * the rows pin down, beyond test/dax-linux-6.1.test.ts:
 * - MAP_PRIVATE on DAX: reads map pmem (PMD or PTE), a write falls back from the PMD
 *   (thp_fault_fallback and a split per PMD) and copies 4 KiB pages; holes copy zeros; no blocks.
 * - fallocate's unwritten extents read as the (huge) zero page; writing them converts in place
 *   (major at PTE level, minor at PMD level); a KEEP_SIZE preallocation past EOF still SIGBUSes.
 * - ext4_break_layouts: punch hole, zero range, MADV_REMOVE and any ftruncate unmap the whole
 *   DAX file first; freed blocks stay busy until the journal commits (refills go elsewhere); a
 *   fifth extent costs an extent-tree block in st_blocks until they merge back.
 * - Where mballoc puts blocks decides which chunks can be PMDs (placement 'mballoc', the default):
 *   a file written by 1 MiB pwrites on a fresh ext4 starts 1 MiB- but not 2 MiB-aligned (no PMD);
 *   a preallocated or PMD-faulted one is aligned to its normalised window; a page refilled after
 *   a punch takes the first free block; a punched 2 MiB refilled by PTE faults is preallocated
 *   whole, aligned; a 768-block window after a truncate goes first-fit, unaligned.
 * - madvise: COLD and PAGEOUT clear DAX PMDs on 6.1 ("bad pmd"), NOHUGEPAGE stops PMD faults,
 *   WILLNEED does nothing, POPULATE_READ/WRITE fault through GUP (counted), errno per mapping;
 *   flag advices split VMAs and merge them back; DONTNEED of one page splits its PMD.
 * - mprotect: 6.1 makes dirty PTEs writable again but not PMDs; PROT_NONE PMDs leave Rss;
 *   halves of a PMD split it and merge back.
 * - msync(MS_SYNC) write-protects only the range it was given.
 * - write(2) that allocates tears down the mappings of its pages (a huge zero PMD goes whole), so
 *   a mapping that read the hole sees the data; MAP_PRIVATE copies survive ftruncate below EOF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daxProbeScenarios, runDaxGuestScenario, hgNh, daxGuestMachine, type DaxProbeRow } from './daxguestprobe.ts';
import { Machine } from '../src/api/machine.ts';
import type { Ext4 } from '../src/fs/ext4/ext4.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { oracleRows } from './support.ts';

interface GuestRow extends DaxProbeRow { kernel: string; fs: string; boot: number; rep: number; extents: string }
const guest = oracleRows<GuestRow>('linux-6.1-guest-dax-ops.jsonl');

const FIELDS = ['minflt', 'majflt', 'fallback', 'split', 'sig', 'sig_page', 'ret', 'err', 'sum', 'rss_kb', 'anon_kb', 'anonhuge_kb',
  'filepmd_kb', 'vmas', 'vmflags', 'st_blocks', 'pmd_chunks', 'pmd_chunks_unwritten'] as const;

test('the guest data: Linux 6.1 ext4-dax, two boots with the same figures in every row', () => {
  assert.ok(guest.every((r) => r.kernel.startsWith('6.1.') && r.fs === 'ext4-dax'));
  const b1 = guest.filter((r) => r.boot === 1), b2 = guest.filter((r) => r.boot === 2);
  assert.equal(b1.length, b2.length);
  b1.forEach((r, i) => assert.deepEqual({ ...r, boot: 0 }, { ...b2[i]!, boot: 0 }, `${r.scenario} ${r.va} ${r.step}`));
  assert.deepEqual([...new Set(b1.map((r) => r.scenario))].sort(), [...daxProbeScenarios].sort());
});

for (const name of daxProbeScenarios) {
  for (const va of [0, 4096]) {
    const want = guest.filter((r) => r.boot === 1 && r.scenario === name && r.va === va);
    if (want.length === 0) continue;
    test(`linux-6.1 ext4-dax ${name} at VA ${va === 0 ? '2M-aligned' : '2M+4K'}: every step as on the guest`, () => {
      const got = runDaxGuestScenario(name, va);
      assert.equal(got.length, want.length, 'steps');
      want.forEach((w, i) => {
        const g = got[i]!;
        assert.equal(g.step, w.step);
        for (const f of FIELDS) {
          const k = f === 'vmflags' ? hgNh(w.vmflags) : w[f];
          assert.equal(g[f], k, `${w.step}: ${f}`);
        }
      });
    });
  }
}

test('ENOSPC with freed blocks still waiting for a commit forces the commit and allocates them '
  + '(ext4_should_retry_alloc)', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 2 ** 30, devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 16 * 2 ** 20 }] });
  assert.equal(m.mkfs('pmem0', 'ext4'), 0);
  assert.equal(m.mount('/mnt', 'ext4', 'pmem0', ['dax']), 0);
  const p = m.process();
  const fd = p.open('/mnt/f', O_RDWR | O_CREAT);
  const big = 8 * 2 ** 20;
  assert.equal(p.pwrite(fd, big, 0, 1), big);
  assert.equal(p.ftruncate(fd, 0), 0);
  const commits = m.modelEvents()['journalCommits']!;
  assert.equal(p.pwrite(fd, big, 0, 2), big, 'the blocks the truncate freed come back after a forced commit');
  assert.equal(m.modelEvents()['journalCommits']! - commits, 1);
});

test('mballoc preallocates the normalised window: one PTE write fault holds 4 MiB of an 8 MiB file, st_blocks counts 1 '
  + 'block, closing gives the rest back', () => {
  const m = daxGuestMachine();
  const fs = m.k.vfs.mounts.find((s) => s.mountPoint === '/mnt')!.fs as Ext4;
  const free0 = fs.alloc.freeBlocks;
  const p = m.process();
  const fd = p.open('/mnt/s', O_RDWR | O_CREAT);
  assert.equal(p.ftruncate(fd, 8 * 2 ** 20), 0);
  const a = p.mmap(0x7f0000000000 + 4096, 8 * 2 ** 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  assert.equal(p.store(a, 1), 0);
  assert.equal((p.stat('/mnt/s') as { blocks: number }).blocks, 8);
  assert.equal(free0 - fs.alloc.freeBlocks, 1024, 'the window [0, 4 MiB) is taken');
  assert.equal(p.store(a + 4096, 1), 0);
  assert.equal(fs.extentsOf(p.kp.fds[fd]!.inode).length, 1, 'the next page comes from the preallocation, contiguous');
  p.munmap(a, 8 * 2 ** 20);
  p.close(fd);
  assert.equal(free0 - fs.alloc.freeBlocks, 2, 'the unused 1022 blocks went back on the last close');
});
