/**
 * Write faults, writeback write-protection and refaults on large page-cache folios (Linux 6.18
 * ext4), against test/oracle/linux-6.18-host-wp.jsonl (test/oracle/wpprobe.c on a 6.18 host; the
 * file is the most frequent result of 9 runs: in 2 of them one rewrite pass counted one fault more).
 * A 2 MiB folio is mapped with one PMD (do_set_pmd: smaps FilePmdMapped 131072 kB for 128 MiB), so
 * after fsync write-protects it, a write splits (zaps) the PMD and the refault maps it again with
 * one writable PMD: 64 faults for 128 MiB. Smaller folios are PTE-mapped, and wp_page_shared
 * makes one PTE writable per fault: 32768.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { oracleRows, pmdAlignedAddress, totalFaults } from './support.ts';

interface Row { write_bytes: number; write: number; file_pmd_mapped_kb: number; rewrite_after_fsync: number; read: number;
  fresh_read: number; write_after_fresh_read: number }
const oracle = oracleRows<Row & { kernel: string }>('linux-6.18-host-wp.jsonl');

test('linux-6.18 ext4: every wpprobe row (write, rewrite after fsync, refaults; 4 KiB to 2 MiB folios) matches the '
  + 'host oracle', () => {
  assert.equal(oracle.length, 4);
  for (const e of oracle) {
    const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30, devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
    m.mkfs('vda', 'ext4');
    m.mount('/mnt', 'ext4', 'vda');
    const p = m.process('wpprobe');
    const len = 128 << 20;
    const fd = p.open('/mnt/wpprobe.dat', O_RDWR | O_CREAT | O_TRUNC);
    for (let o = 0; o < len; o += e.write_bytes) assert.equal(p.pwrite(fd, e.write_bytes, o, 3), e.write_bytes);
    p.fsync(fd);
    const a = pmdAlignedAddress(p, len);
    assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), a);
    const F = () => totalFaults(p);
    const pass = (wr: boolean, v: number) => { const f0 = F(); for (let o = 0; o < len; o += 4096) assert.ok((wr ? p.store(a + o, v) : p.load(a + o)) >= 0); return F() - f0; };
    const write = pass(true, 1);
    const sm = p.smaps(a);
    assert.ok(typeof sm !== 'number');
    const filePmd = sm['FilePmdMapped'] as number;
    p.fsync(fd);
    const rewrite = pass(true, 2);
    const read = pass(false, 0);
    p.munmap(a, len);
    assert.equal(p.mmap(a, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0), a);
    const fresh = pass(false, 0);
    const thenWrite = pass(true, 3);
    assert.deepEqual({ write, file_pmd_mapped_kb: filePmd, rewrite_after_fsync: rewrite, read, fresh_read: fresh, write_after_fresh_read: thenWrite },
      { write: e.write, file_pmd_mapped_kb: e.file_pmd_mapped_kb, rewrite_after_fsync: e.rewrite_after_fsync, read: e.read, fresh_read: e.fresh_read,
        write_after_fresh_read: e.write_after_fresh_read }, `W=${e.write_bytes}`);
    // Every byte written through the PMD mappings reached the page cache.
    const buf = new Uint8Array(4096);
    assert.equal(p.pread(fd, 4096, len - 4096, buf), 4096);
    assert.equal(buf[0], 3);
  }
});
