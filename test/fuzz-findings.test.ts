// Issue 17: regression tests for what the API fuzzer (src/fuzz/, `npm run fuzz`) found after its
// first version, each against the kernel behaviour it models (source file and version, or the
// recorded run named), and a short run of the scenario mutator (src/fuzz/mutate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine } from '../src/api/machine.ts';
import { generate } from '../src/fuzz/program.ts';
import { runProgram } from '../src/fuzz/run.ts';
import { runMutant } from '../src/fuzz/mutate.ts';

const MiB = 2 ** 20;
function tmpfs(profile = 'linux-6.18'): Machine {
  const m = new Machine({ profile, memoryBytes: 256 * MiB });
  m.mount('/t', 'tmpfs');
  return m;
}
function ext4(profile: string, dax: boolean): Machine {
  const m = new Machine({ profile, memoryBytes: 256 * MiB,
    devices: [{ name: 'd0', type: dax ? 'pmem' : 'block', sizeBytes: 64 * MiB }] });
  m.mkfs('d0', 'ext4');
  assert.equal(m.mount('/t', 'ext4', 'd0', dax ? ['dax'] : []), 0);
  return m;
}

test('a value no register holds is EINVAL before the fd is looked at; a register value gets EBADF first ' +
  '(src/lib/abi.ts; ksys_pwrite64/ksys_pread64 in fs/read_write.c 6.18: pos, then fdget)', () => {
  const p = tmpfs().process();
  const ro = p.open('/t/a', 0x40); // O_CREAT, O_RDONLY
  for (const bad of [NaN, Infinity, -Infinity, 0.5]) {
    assert.equal(p.pwrite(99, bad, 0, 0), -22);
    assert.equal(p.pread(99, bad, 0), -22);
    assert.equal(p.write(99, bad, 0), -22);
    assert.equal(p.write(ro, bad, 0), -22); // not FMODE_WRITE, but the count never reaches vfs_write
    assert.equal(p.read(99, bad), -22);
    assert.equal(p.fallocate(99, 0, 0, bad), -22);
  }
  assert.equal(p.pwrite(99, -1, 0, 0), -9); // (size_t)-1 is a register value: fdget fails first
  assert.equal(p.pwrite(ro, 4096, 0, 0), -9);
  assert.equal(p.pwrite(99, 4096, -1, 0), -22); // pos < 0 comes before fdget
});

test('tmpfs FALLOC_FL_ZERO_RANGE is EOPNOTSUPP and leaves the data (shmem_fallocate checks the mode first, ' +
  'mm/shmem.c 6.18; test/oracle-runs/fuzz-findings-tmpfs.linux-6.18.tmpfs.jsonl)', () => {
  for (const profile of ['linux-4.15', 'linux-6.18']) {
    const p = tmpfs(profile).process();
    const fd = p.open('/t/a', 0x42);
    assert.equal(p.pwrite(fd, 8192, 0, 0xab), 8192);
    assert.equal(p.fallocate(fd, 0x11, 0, 4096), -95);
    assert.equal(p.fallocate(fd, 0x10, 100, 5000), -95);
    const out = new Uint8Array(8192);
    assert.equal(p.pread(fd, 8192, 0, out), 8192);
    assert.ok(out.every((b) => b === 0xab), `${profile}: the data survived the refused ZERO_RANGE`);
  }
});

test("'..' steps up only from a directory the walk reached: ENOENT after a missing one, ENOTDIR after a file " +
  '(link_path_walk, fs/namei.c 6.18; test/oracle-runs/fuzz-findings-tmpfs.linux-6.18.tmpfs.jsonl)', () => {
  const p = tmpfs().process();
  assert.ok(p.open('/t/a', 0x42) >= 0);
  assert.equal(p.open('/t/sub/../a', 0), -2);
  assert.equal(p.open('/t/sub/../b', 0x42), -2);
  assert.equal(p.unlink('/t/sub/../a'), -2);
  assert.equal(p.open('/t/a/../a', 0), -20);
  assert.equal(p.mkdir('/t/d'), 0);
  assert.ok(p.open('/t/d/../a', 0) >= 0);
  assert.ok(p.open('/t/../t/a', 0) >= 0);
});

test('mprotect accepts PROT_SEM and maps it to no VM flag (arch_validate_prot, include/linux/mman.h 6.18)', () => {
  const p = tmpfs().process();
  assert.equal(p.mprotect(0x10000, 4096, 8), -12); // valid prot, no VMA there: ENOMEM
  const a = p.mmap(0, 8192, 3, 0x22, -1, 0);
  assert.equal(p.store(a, 5), 0);
  assert.equal(p.mprotect(a, 4096, 8 | 1), 0);
  assert.equal(p.load(a), 5);
  assert.equal(p.store(a, 6), -11); // PROT_SEM gives no write access
  assert.equal(p.mprotect(a, 4096, 16), -22);
});

test('pre-4.14 DAX: a hole page cached by one mapping is mapped by the next (dax_load_hole, fs/dax.c 4.13: ' +
  'an existing hole page goes to finish_fault; the 2014 patchset returns it for __do_fault)', () => {
  for (const profile of ['linux-4.13', 'dax-2014']) {
    const m = ext4(profile, true);
    const p = m.process();
    const fd = p.open('/t/a', 0x42);
    assert.equal(p.ftruncate(fd, 16384), 0);
    const a = p.mmap(0, 16384, 1, 0x1, fd, 0);
    const b = p.mmap(0, 16384, 1, 0x2, fd, 0);
    assert.equal(p.load(b + 4096), 0); // the private mapping's read makes the hole page
    assert.equal(p.load(a + 4096), 0); // used to loop: the fault returned NOPAGE without a PTE
    assert.equal(p.load(a + 4096), 0);
  }
});

test('a large write folio is not added over a page already cached; no page leaks (filemap_add_folio EEXIST ' +
  'and __filemap_get_folio trying smaller orders, mm/filemap.c 6.18)', () => {
  const m = ext4('linux-7.2', false);
  const p = m.process();
  const free0 = m.meminfo().MemFree!;
  const fd = p.open('/t/a', 0x42);
  // ZERO_RANGE|KEEP_SIZE past EOF leaves a zeroed page-cache page at index 62 (ext4_zero_partial_blocks).
  assert.equal(p.fallocate(fd, 0x11, 62 * 4096, 1), 0);
  assert.equal(p.pwrite(fd, 64 * 4096, 0, 7), 64 * 4096);
  const out = new Uint8Array(64 * 4096);
  assert.equal(p.pread(fd, out.length, 0, out), out.length);
  assert.ok(out.every((b) => b === 7));
  assert.equal(p.close(fd), 0);
  assert.equal(p.unlink('/t/a'), 0);
  m.dropCaches();
  assert.equal(m.meminfo().MemFree, free0, 'every page given back at eviction');
});

test('fuzzer programs that found these classes now run clean against the shadow (src/fuzz, seeds as reported)', () => {
  // 105: msync(MS_INVALIDATE) over MAP_LOCKED is EBUSY (mm/msync.c 6.18), the shadow knows VM_LOCKED;
  // 200031: the tmpfs ZERO_RANGE data loss; 200090: the pre-4.14 hole page; 9: a directory fd;
  // 208: MADV_POPULATE_READ on 5.10 (EINVAL before 5.14, knob madvPopulate); 32: the leaked page.
  // 365, 100253, 300138: MAP_POPULATE of a writable private mapping breaks COW at mmap time, so a
  // later pwrite is not seen through it (populate_vma_page_range, FOLL_WRITE; the shadow had it
  // wrong, the model right: test/oracle-runs/populate-cow.linux-6.18.*); 200252: MADV_REMOVE
  // punches the VMAs below the one that fails (madvise_walk_vmas; madv-remove-partial.linux-6.18.*).
  // 700053: MADV_REMOVE on a VM_LOCKED VMA is EINVAL first (6.18 host, madv-remove-partial); 700066: mmap
  // checks the fd before the length (mmaporderprobe); 700033: a 16 TiB populate the shadow no longer copies.
  // 2000123, 3000698: memory runs out (a 16 TiB populate, a 1 TiB write access): ENOMEM or SIGKILL is Linux's answer;
  // 5000003, 5000563: PROT_NONE after such an access is still SIGSEGV; 7000522: ext4_alloc_file_blocks grows i_size
  // before an ENOSPC; 8000528: MADV_REMOVE past the model's tmpfs s_maxbytes is EFBIG; 12001827: a write falls back
  // to smaller folios when a large one cannot be allocated (__filemap_get_folio); 14000035: a 16 TiB MAP_LOCKED
  // populate of a sparse ext4 file on 6.12 (mlocked folios culled to the unevictable list, not rescanned; the PTE
  // table preallocated before fault-around gathers folios, so reclaim cannot free one it is about to map).
  for (const seed of [105, 200031, 200090, 9, 208, 32, 41, 200089, 365, 100253, 300138, 200252, 700053, 700066, 700033,
    2000123, 3000698, 5000003, 5000563, 7000522, 8000528, 12001827, 14000035]) {
    const r = runProgram(generate(seed, 40));
    assert.equal(r.finding, null, `seed ${seed}: ${r.finding?.message}`);
  }
});

test('scenario mutator: 3 mutants of each example at a fixed seed reach no internal error (src/fuzz/mutate.ts)',
  () => {
    const files = ['truncate-sigbus.yaml', 'falloc-zero-edges.yaml', 'directories.yaml', 'mlock.yaml',
      'fork-cow.yaml', 'data-straddle.yaml'];
    let clear = 0;
    for (const f of files) {
      const text = readFileSync(new URL(`../examples/${f}`, import.meta.url), 'utf8');
      for (let seed = 1; seed <= 3; seed++) {
        const r = runMutant(f, text, seed, 60);
        assert.notEqual(r.outcome, 'finding', `${f} --seed ${seed}: ${r.message}`);
        if (r.outcome === 'clear-error') clear++;
      }
    }
    assert.ok(clear < files.length * 3, 'some mutants still run');
  });

test('MAP_POPULATE on a writable private mapping copies the pages at mmap time; a read-only one keeps ' +
  'the page cache (populate_vma_page_range, mm/gup.c 6.18; test/oracle-runs/populate-cow.linux-6.18.tmpfs/ext4)', () => {
  for (const [name, m] of [['tmpfs', tmpfs()], ['ext4', ext4('linux-6.18', false)], ['ext4-dax', ext4('linux-6.1', true)]] as const) {
    const p = m.process();
    const fd = p.open('/t/a', 0x42);
    assert.equal(p.pwrite(fd, 16384, 0, 0x11), 16384);
    const w = p.mmap(0, 24576, 3, 0x8002, fd, 0); // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_POPULATE
    const r = p.mmap(0, 16384, 1, 0x8002, fd, 0);
    assert.equal(m.meminfo().AnonPages, 16, `${name}: four private copies made by the populate`);
    assert.equal(p.pwrite(fd, 16384, 0, 0x22), 16384);
    assert.equal(p.load(w + 4096), 0x11, `${name}: the private copy keeps the old byte`);
    assert.equal(p.load(r + 4096), 0x22, `${name}: the read-only mapping sees the file`);
    assert.equal(p.load(w + 16384), -7, `${name}: past EOF is SIGBUS`);
  }
});

test('MADV_REMOVE over a shared writable VMA and then a private one punches the first and returns EACCES ' +
  '(madvise_walk_vmas, mm/madvise.c 6.18; test/oracle-runs/madv-remove-partial.linux-6.18.tmpfs/ext4)', () => {
  for (const [name, m] of [['tmpfs', tmpfs()], ['ext4', ext4('linux-6.18', false)]] as const) {
    const p = m.process();
    const fd = p.open('/t/a', 0x42);
    assert.equal(p.pwrite(fd, 32768, 0, 0x33), 32768);
    const a = p.mmap(0x7f0000000000, 32768, 3, 0x11, fd, 0); // MAP_SHARED|MAP_FIXED
    assert.equal(p.mmap(a + 16384, 16384, 1, 0x12, fd, 16384), a + 16384); // MAP_PRIVATE|MAP_FIXED
    assert.equal(p.madvise(a, 32768, 9), -13);
    const out = new Uint8Array(4);
    assert.equal(p.pread(fd, 4, 0, out), 4);
    assert.deepEqual([...out], [0, 0, 0, 0], `${name}: the shared VMA's range was punched`);
    assert.equal(p.pread(fd, 4, 16384, out), 4);
    assert.deepEqual([...out], [0x33, 0x33, 0x33, 0x33], `${name}: the private VMA's range was not`);
  }
});

test('6.18 ext4: a punch over part of a dirty large folio keeps it whole (the split needs ext4_release_folio); ' +
  'a written-back one is split and the hole leaves the cache (test/oracle-runs/punch-large-folio.linux-6.18.ext4)', () => {
  const m = ext4('linux-6.18', false);
  const p = m.process();
  const a = p.open('/t/a', 0x42), b = p.open('/t/b', 0x42);
  assert.equal(p.pwrite(a, 32768, 0, 0x33), 32768);
  assert.equal(p.pwrite(b, 32768, 0, 0x44), 32768);
  assert.equal(p.fsync(b), 0);
  assert.equal(p.fallocate(a, 3, 4096, 12288), 0);
  assert.equal(p.fallocate(b, 3, 4096, 12288), 0);
  const ma = p.mmap(0, 32768, 1, 1, a, 0), mb = p.mmap(0, 32768, 1, 1, b, 0);
  const maj0 = p.rusage().majflt;
  assert.equal(p.load(ma + 8192), 0);
  assert.equal(p.rusage().majflt, maj0, 'the dirty folio is still cached: a minor fault');
  assert.equal(p.load(mb + 8192), 0);
  assert.equal(p.rusage().majflt, maj0 + 1, 'the clean folio was split and the hole dropped: a major fault');
  assert.equal(p.load(ma + 20480), 0x33);
});
