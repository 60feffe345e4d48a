/**
 * Every row of ../shared/oracle/linux-6.18-host.jsonl (copied to test/oracle/), measured by
 * pcprobe.c on a real Linux 6.18 host on tmpfs and ext4, must come out of the linux-6.18 profile
 * exactly: minflt, majflt, the signal and the page it hit, and st_blocks where recorded.
 * The reference explains each row in §10 of linux-fault-path.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { runPcprobe, type ProbeRow } from './pcprobe.ts';
import { oracleRows } from './support.ts';

const oracle = oracleRows<ProbeRow & { fs: string }>('linux-6.18-host.jsonl');

function machine(): Machine {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 4 * 2 ** 30, devices: [{ name: 'vda', type: 'block', sizeBytes: 2 * 2 ** 30 }] });
  m.mount('/dev/shm', 'tmpfs');
  m.mkfs('vda', 'ext4');
  m.mount('/mnt/ext4', 'ext4', 'vda');
  return m;
}

for (const [fs, dir] of [['tmpfs', '/dev/shm'], ['ext4', '/mnt/ext4']] as const) {
  test(`linux-6.18 ${fs}: every pcprobe row matches the host oracle`, () => {
    const rows = runPcprobe(machine(), dir);
    const expected = oracle.filter((r) => r.fs === fs);
    assert.ok(expected.length > 0);
    for (const e of expected) {
      const got = rows.find((r) => r.scenario === e.scenario);
      assert.ok(got, `row ${e.scenario} missing`);
      const pick = (r: ProbeRow) => ({ minflt: r.minflt, majflt: r.majflt, signal: r.signal, signal_page: r.signal_page,
        ...(e.st_blocks_after !== undefined ? { st_blocks_after: r.st_blocks_after } : {}) });
      assert.deepEqual(pick(got), pick(e), `${fs} ${e.scenario}`);
    }
  });
}
