/**
 * Large page-cache folios on Linux 6.18 ext4, against test/oracle/linux-6.18-host-large-folios.jsonl:
 * measured on a Linux 6.18 host (ext4 on a virtio disk) by test/oracle/lfprobe.c, identical in
 * three runs. A file written with pwrite(2) of W bytes holds W-byte folios (fgf_set_order, up to
 * 2 MiB), and 6.18 maps a whole folio per fault: finish_fault (19773df031bc) for write faults and
 * fault-around (357b92761d94) for read faults, except where the folio would leave the VMA or the
 * page table, or, for read fault-around, reach the last page of the file (the i_size guard of
 * 74207de2ba10): so 1 MiB folios give 128 write faults but 127 + 16 read faults. The port is
 * test/lfprobe.ts; every row must match exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Machine } from '../src/api/machine.ts';
import { runLfprobe, type LfRow } from './lfprobe.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_FIXED } from '../src/mm/constants.ts';
import { oracleRows, pmdAlignedAddress, totalFaults } from './support.ts';

const oracle = oracleRows<LfRow>('linux-6.18-host-large-folios.jsonl');

function machine(profile: string): Machine {
  const m = new Machine({ profile, memoryBytes: 4 * 2 ** 30, devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  return m;
}

const key = (r: LfRow) => `${r.scenario} W=${r.write_bytes} ${r.op} ${r.map}`;

test('linux-6.18 ext4 large folios: every lfprobe row matches the host oracle', () => {
  const rows = runLfprobe(machine('linux-6.18'), '/mnt');
  assert.equal(rows.length, oracle.length);
  for (let i = 0; i < oracle.length; i++) {
    const e = oracle[i]!, g = rows[i]!;
    assert.equal(key(g), key(e));
    assert.equal(g.faults, e.faults, key(e));
  }
});

test('whole-folio mapping is the 6.18 mechanism: with mapWholeFolio off, large folios fault per 16-page window', () => {
  const m = new Machine({ profile: 'linux-6.18', knobs: { mapWholeFolio: false }, memoryBytes: 4 * 2 ** 30,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  const rows = runLfprobe(m, '/mnt');
  const row = (s: string, w: number) => rows.find((r) => r.scenario === s && r.write_bytes === w)!.faults;
  // Without the change the folio size does not matter: one read fault per fault-around window
  // and one write fault per page, as for order-0 folios.
  assert.equal(row('seq-read', 1 << 20), 2048);
  assert.equal(row('seq-write', 1 << 20), 32768);
  assert.equal(row('seq-read', 4096), 2048);
});

/**
 * Large folios through mappings whose file offset or address is not congruent with them, against
 * test/oracle/linux-6.18-host-offsets.jsonl (test/oracle/offprobe.c on a 6.18 host, identical in
 * three runs): a folio that would cross the VMA start or a page-table boundary cannot be mapped
 * whole (nor by a PMD), so fault-around windows and single-page write faults take over.
 */
test('linux-6.18 ext4: large folios behind unaligned offsets and addresses match the host oracle', () => {
  const rows = readFileSync(new URL('./oracle/linux-6.18-host-offsets.jsonl', import.meta.url), 'utf8')
    .trim().split('\n').map((l) => JSON.parse(l) as { write_bytes: number; offset: number; va_skew: number; read: number; write_after_read: number; fresh_write: number });
  assert.equal(rows.length, 5);
  for (const e of rows) {
    const m = machine('linux-6.18');
    const p = m.process();
    const len = 32 << 20, mlen = 16 << 20;
    const fd = p.open('/mnt/offprobe.dat', O_RDWR | O_CREAT | O_TRUNC);
    for (let o = 0; o < len; o += e.write_bytes) assert.equal(p.pwrite(fd, e.write_bytes, o, 3), e.write_bytes);
    p.fsync(fd);
    const a = pmdAlignedAddress(p, mlen) + e.va_skew;
    const F = () => totalFaults(p);
    const pass = (wr: boolean) => { const f0 = F(); for (let o = 0; o < mlen; o += 4096) assert.ok((wr ? p.store(a + o, 1) : p.load(a + o)) >= 0); return F() - f0; };
    assert.equal(p.mmap(a, mlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, e.offset), a);
    const read = pass(false), write_after_read = pass(true);
    p.munmap(a, mlen);
    assert.equal(p.mmap(a, mlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, e.offset), a);
    const fresh_write = pass(true);
    assert.deepEqual({ read, write_after_read, fresh_write }, { read: e.read, write_after_read: e.write_after_read, fresh_write: e.fresh_write },
      `W=${e.write_bytes} offset=${e.offset} skew=${e.va_skew}`);
  }
});
