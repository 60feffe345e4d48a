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
  for (const seed of [105, 200031, 200090, 9, 208, 32, 41, 200089]) {
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
