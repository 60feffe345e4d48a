/**
 * Seed 003 (Kara, Aug 2017, ../shared/seeds/003_bb8db76651de6932.txt): MAP_SYNC. While a block is
 * writably mapped it must already be durable in the file: iomap_begin reports uncommitted block
 * metadata (IOMAP_F_DIRTY), the DAX fault returns VM_FAULT_NEEDDSYNC and ext4 commits before it
 * finishes the fault. The same workload on linux-4.15 with and without MAP_SYNC.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { O_RDWR, O_CREAT, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_SYNC,
  MAP_FIXED } from '../src/mm/constants.ts';
import type { Ext4 } from '../src/fs/ext4/ext4.ts';
import { daxMachine, written, faultCount, MiB, PG, A } from './support.ts';

const mapFlags = (sync: boolean) => (sync ? MAP_SHARED_VALIDATE | MAP_SYNC : MAP_SHARED) | MAP_FIXED;

test('seed 003 (Kara): with MAP_SYNC every writably mapped block is already committed; without it a block is '
  + 'writable while uncommitted', () => {
  for (const sync of [true, false]) {
    const m = daxMachine('linux-4.15');
    const p = m.process();
    const fd = p.open('/mnt/f', O_RDWR | O_CREAT);
    p.ftruncate(fd, 2 * MiB);
    const a = p.mmap(A + PG, 2 * MiB, PROT_READ | PROT_WRITE, mapFlags(sync), fd, 0);
    const ext4 = m.k.vfs.mounts[0]!.fs as Ext4;
    const ino = m.k.vfs.mounts[0]!.inodes.get('f')!.ino;
    let uncommittedWritable = 0;
    for (let i = 0; i < 512; i++) {
      assert.equal(p.store(a + i * PG, 1), 0);
      if (ext4.journal.needsCommitForDatasync(ino)) uncommittedWritable++;
    }
    if (sync) {
      assert.equal(uncommittedWritable, 0);
      assert.equal(m.modelEvents().journalCommits, 512, 'one commit per allocating fault');
    } else {
      assert.equal(uncommittedWritable, 512);
      assert.equal(m.modelEvents().journalCommits, 0);
    }
  }
});

test('seed 003 (Kara): MAP_SYNC on a preallocated (written and fsynced) file needs no commit', () => {
  // Committed blocks carry no IOMAP_F_DIRTY: the fault path is the same with MAP_SYNC and without.
  for (const sync of [true, false]) {
    const m = daxMachine('linux-4.15');
    const p = m.process();
    const fd = written(p, '/mnt/f', 2 * MiB);
    const a = p.mmap(A + PG, 2 * MiB, PROT_READ | PROT_WRITE, mapFlags(sync), fd, 0);
    const before = m.modelEvents().journalCommits!;
    assert.equal(faultCount(p, () => p.access(a, 2 * MiB, PG, true)), 512);
    assert.equal(m.modelEvents().journalCommits! - before, 0);
  }
});
