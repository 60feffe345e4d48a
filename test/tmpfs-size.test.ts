// tmpfs size limits (src/mm/shmem-limit.ts): the size= / nr_blocks= mount options and the default of
// half of RAM (shmem_parse_one, shmem_default_max_blocks in mm/shmem.c 5.10-6.18), and what running
// out of them gives. The behaviour itself is the recorded 6.18 host run
// test/oracle-runs/tmpfs-enospc.linux-6.18.tmpfs.jsonl (replayed by test/oracle-runs.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { tmpfsMaxPages } from '../src/mm/shmem-limit.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_ANONYMOUS } from '../src/mm/constants.ts';

const MiB = 2 ** 20;

test('size= takes memparse suffixes and rounds up to pages, a percentage is of RAM; nr_blocks= is pages; ' +
  'the default is half of RAM, size=0 no limit (shmem_parse_one, shmem_default_max_blocks)', () => {
  const ram = 262144; // 1 GiB in pages
  assert.equal(tmpfsMaxPages([], ram), 131072);
  assert.equal(tmpfsMaxPages(['size=1m'], ram), 256);
  assert.equal(tmpfsMaxPages(['size=1M'], ram), 256);
  assert.equal(tmpfsMaxPages(['size=4097'], ram), 2);
  assert.equal(tmpfsMaxPages(['size=2g'], ram), 524288);
  // 10% of 1 GiB is 107374182 bytes (rounded down), 26215 pages (rounded up).
  assert.equal(tmpfsMaxPages(['size=10%'], ram), 26215);
  assert.equal(tmpfsMaxPages(['nr_blocks=1k'], ram), 1024);
  assert.equal(tmpfsMaxPages(['size=0'], ram), 0);
  assert.equal(tmpfsMaxPages(['ro', 'noatime', 'mode=1777', 'size=64k'], ram), 16, 'flags and ignored keys pass');
  assert.match(String(tmpfsMaxPages(['size=1x'], ram)), /Bad value for 'size'/);
  assert.match(String(tmpfsMaxPages(['dax'], ram)), /Unknown parameter 'dax'/);
  assert.match(String(tmpfsMaxPages(['huge=always'], ram)), /not modelled/);
});

test('mount(2) of tmpfs: an option tmpfs refuses is EINVAL; a scenario names the bad option at parse time', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 64 * MiB });
  assert.equal(m.mount('/t', 'tmpfs', undefined, ['size=lots']), -22);
  assert.equal(m.mount('/t', 'tmpfs', undefined, ['size=1m']), 0);
  const text = 'name: x\nkernel: { profile: linux-6.18 }\nmachine: { memoryBytes: 64MiB }\n' +
    'mounts:\n  - { fs: tmpfs, target: /t, options: [siez=1m] }\nsteps:\n  - report: {}\n';
  assert.throws(() => parseScenario(text, 'x.yaml'), /mounts\[0\]\.options.*Unknown parameter 'siez'/s);
});

test('the default limit is half of RAM: a tmpfs write past it is short and then ENOSPC, not an OOM kill ' +
  '(shmem_default_max_blocks; shmem_inode_acct_blocks -> ENOSPC)', () => {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 64 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/a', O_RDWR | O_CREAT);
  assert.equal(p.pwrite(fd, 40 * MiB, 0, 1), 32 * MiB);
  assert.equal(p.pwrite(fd, 4096, 32 * MiB, 1), -28);
  assert.equal(p.ftruncate(fd, 0), 0);
  assert.equal(p.pwrite(fd, 4096, 0, 1), 4096, 'truncate gave the pages back');
});

test('shared anonymous memory lives on the kernel\'s internal shm mount, which has no size limit ' +
  '(shm_mnt is a kernel mount: shmem_fill_super sets no max_blocks)', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 64 * MiB });
  const p = m.process();
  const a = p.mmap(0, 40 * MiB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  for (let o = 0; o < 40 * MiB; o += 4096) assert.equal(p.store(a + o, 1), 0);
});
