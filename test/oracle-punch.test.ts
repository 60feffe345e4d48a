/**
 * Punch hole and truncate inside large page-cache folios on Linux 6.18 ext4, against
 * test/oracle/linux-6.18-host-punch.jsonl (test/oracle/phprobe.c on a 6.18 host, identical in three
 * runs). 6.18 splits a folio that straddles the range with folio_split (a buddy split at the
 * range's first page and again at the first page after it, keeping the largest aligned pieces),
 * unmapping it first; pieces inside the range are dropped, the others are refaulted whole. So a
 * 512 KiB hole punched into a mapped 2 MiB folio costs 1 (the 512 KiB piece before it) + 8 (the hole,
 * refilled by read-around in 4 KiB folios) + 5 (the pieces after it: 16 small pages, then 64, 128,
 * 256 and 512 KiB folios) = 14 faults; a uniform split to 4 KiB pages would cost 32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { O_RDWR, O_CREAT, O_TRUNC, PROT_READ, MAP_SHARED, MAP_FIXED,
  FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE } from '../src/mm/constants.ts';
import { oracleRows, pmdAlignedAddress, totalFaults } from './support.ts';

interface Row { op: string; write_bytes: number; read: number; reread: number; again: number; byte_2_5MiB: number; byte_3MiB: number }
const oracle = oracleRows<Row>('linux-6.18-host-punch.jsonl');

function run(profile: string, op: string, w: number, knobs: Record<string, unknown> = {}): Omit<Row, 'op' | 'write_bytes'> {
  const m = new Machine({ profile, knobs, memoryBytes: 1024 * 2 ** 20,
    devices: [{ name: 'vda', type: 'block', sizeBytes: 1024 * 2 ** 20, readAheadKb: 8192, maxSectorsKb: 4096 }] });
  m.mkfs('vda', 'ext4');
  m.mount('/mnt', 'ext4', 'vda');
  const p = m.process('phprobe');
  const len = 16 << 20;
  const fd = p.open('/mnt/phprobe.dat', O_RDWR | O_CREAT | O_TRUNC);
  for (let o = 0; o < len; o += w) assert.equal(p.pwrite(fd, w, o, 3), w);
  p.fsync(fd);
  const a = pmdAlignedAddress(p, len);
  assert.equal(p.mmap(a, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0), a);
  const F = () => totalFaults(p);
  const pass = (end: number) => { const f0 = F(); for (let o = 0; o < end; o += 4096) assert.ok(p.load(a + o) >= 0); return F() - f0; };
  const read = pass(len);
  let end = len;
  if (op === 'punch') assert.equal(p.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (2 << 20) + (1 << 19), 1 << 19), 0);
  else { end = (3 << 20) + 5000; assert.equal(p.ftruncate(fd, end), 0); }
  const reread = pass(end);
  const again = pass(end);
  return { read, reread, again, byte_2_5MiB: p.load(a + (2 << 20) + (1 << 19) + 5), byte_3MiB: p.load(a + (3 << 20) + 5) };
}

test('linux-6.18 ext4: punch hole and truncate inside large folios match the host oracle (folio_split)', () => {
  assert.equal(oracle.length, 6);
  for (const e of oracle) {
    const { op, write_bytes, ...want } = e as Row & { kernel?: string };
    delete (want as { kernel?: string }).kernel;
    assert.deepEqual(run('linux-6.18', op, write_bytes), want, `${op} W=${write_bytes}`);
  }
});

test('a uniform split (split_folio to 4 KiB, before 6.15) refaults the straddling 2 MiB folio 16 pages at a '
  + 'time', () => {
  assert.equal(run('linux-6.18', 'punch', 2 << 20).reread, 14);
  assert.equal(run('linux-6.18', 'punch', 2 << 20, { folioSplitNonUniform: false }).reread, 32);
});
