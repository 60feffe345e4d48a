/**
 * Private COW and partial zaps of large page-cache folios on Linux 6.18 ext4, against
 * test/oracle/linux-6.18-host-private.jsonl (test/oracle/ppprobe.c on a 6.18 host, identical in
 * four runs). MADV_DONTNEED of 4 KiB inside a PMD-mapped 2 MiB folio zaps the PMD without
 * splitting the VMA, so the next access maps the whole PMD again (1 fault); munmap of half of it
 * splits the VMA, so the other half no longer holds the folio whole and refaults 16 pages at a
 * time (16 faults). Private writes COW one page per fault whatever the folio size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE, MAP_FIXED,
  MADV_DONTNEED } from '../src/mm/constants.ts';
import { oracleRows, pmdAlignedAddress, totalFaults } from './support.ts';

interface Row { write_bytes: number; private_read: number; private_write: number; shared_read: number; read_after_dontneed_4k: number;
  read_after_partial_munmap: number }
const oracle = oracleRows<Row & { kernel?: string }>('linux-6.18-host-private.jsonl');

test('linux-6.18 ext4: private COW, MADV_DONTNEED and partial munmap over large folios match the host oracle', () => {
  assert.equal(oracle.length, 3);
  for (const e of oracle) {
    const m = new Machine({ profile: 'linux-6.18', memoryBytes: 1024 * 2 ** 20, devices: [{ name: 'vda', type: 'block', sizeBytes: 1024 * 2 ** 20 }] });
    m.mkfs('vda', 'ext4');
    m.mount('/mnt', 'ext4', 'vda');
    const p = m.process('ppprobe');
    const len = 16 << 20, w = e.write_bytes;
    const fd = p.open('/mnt/ppprobe.dat', O_RDWR | O_CREAT | O_TRUNC);
    for (let o = 0; o < len; o += w) assert.equal(p.pwrite(fd, w, o, 3), w);
    p.fsync(fd);
    const a = pmdAlignedAddress(p, len);
    const F = () => totalFaults(p);
    const pass = (wr: boolean, skip?: [number, number]) => {
      const f0 = F();
      for (let o = 0; o < len; o += 4096) {
        if (skip && o >= skip[0] && o < skip[1]) continue;
        assert.ok((wr ? p.store(a + o, 1) : p.load(a + o)) >= 0);
      }
      return F() - f0;
    };
    assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0), a);
    const private_read = pass(false), private_write = pass(true);
    p.munmap(a, len);
    assert.equal(p.mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), a);
    const shared_read = pass(false);
    assert.equal(p.madvise(a + (1 << 20), 4096, MADV_DONTNEED), 0);
    const read_after_dontneed_4k = pass(false);
    assert.equal(p.munmap(a + (5 << 20), 1 << 20), 0);
    const read_after_partial_munmap = pass(false, [5 << 20, 6 << 20]);
    const { kernel: _k, ...want } = e;
    assert.deepEqual({ write_bytes: w, private_read, private_write, shared_read, read_after_dontneed_4k, read_after_partial_munmap }, want, `W=${w}`);
  }
});
