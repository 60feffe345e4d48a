// vfs_fallocate's order of checks (src/fs/falloc.ts), per version: fs/open.c vfs_fallocate as read
// in 5.10 (Rtoax/linux-5.10.13), 6.1 (the flag rules) and the 6.12 rework ("fs: sort out the
// fallocate mode vs flag mess", the exclusive-mode switch; 6.17 adds WRITE_ZEROES), and as
// measured by examples/fallocate-order.yaml on the 6.18 host and the 6.1 guest
// (test/oracle-runs/fallocate-order.linux-*.jsonl, replayed by test/oracle-runs.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fallocateModeErrno } from '../src/fs/falloc.ts';
import { EINVAL, EOPNOTSUPP } from '../src/lib/errno.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';

const KEEP = 0x01, PUNCH = 0x02, STALE = 0x04, COLLAPSE = 0x08, ZERO = 0x10, INSERT = 0x20, UNSHARE = 0x40;
const WZ = 0x80;

test('5.10/6.1 flag rules: collapse or insert with another flag is EINVAL, unknown bits and punch rules EOPNOTSUPP', () => {
  const f = (m: number) => fallocateModeErrno('flag-rules', m);
  assert.equal(f(COLLAPSE | KEEP), -EINVAL);
  assert.equal(f(INSERT | ZERO), -EINVAL);
  assert.equal(f(COLLAPSE | PUNCH | KEEP), -EINVAL);
  assert.equal(f(UNSHARE | ZERO), -EINVAL);
  assert.equal(f(PUNCH), -EOPNOTSUPP);                  // punch hole without KEEP_SIZE
  assert.equal(f(PUNCH | ZERO | KEEP), -EOPNOTSUPP);    // before the collapse rule
  assert.equal(f(STALE), -EOPNOTSUPP);                  // not in FALLOC_FL_SUPPORTED_MASK
  assert.equal(f(WZ), -EOPNOTSUPP);
  for (const ok of [0, KEEP, PUNCH | KEEP, ZERO, ZERO | KEEP, COLLAPSE, INSERT, UNSHARE, UNSHARE | KEEP]) {
    assert.equal(f(ok), 0, `mode ${ok}`);
  }
});

test('6.12+ exclusive modes: one mode plus KEEP_SIZE where allowed, everything else EOPNOTSUPP; WRITE_ZEROES from 6.17', () => {
  for (const rules of ['exclusive-modes', 'exclusive-modes-write-zeroes'] as const) {
    const f = (m: number) => fallocateModeErrno(rules, m);
    assert.equal(f(COLLAPSE | KEEP), -EOPNOTSUPP);
    assert.equal(f(INSERT | ZERO), -EOPNOTSUPP);
    assert.equal(f(COLLAPSE | PUNCH | KEEP), -EOPNOTSUPP);
    assert.equal(f(UNSHARE | ZERO), -EOPNOTSUPP);
    assert.equal(f(PUNCH), -EOPNOTSUPP);
    for (const ok of [0, KEEP, PUNCH | KEEP, ZERO | KEEP, COLLAPSE, INSERT, UNSHARE | KEEP]) assert.equal(f(ok), 0);
  }
  assert.equal(fallocateModeErrno('exclusive-modes', WZ), -EOPNOTSUPP);
  assert.equal(fallocateModeErrno('exclusive-modes-write-zeroes', WZ), 0);
  assert.equal(fallocateModeErrno('exclusive-modes-write-zeroes', WZ | KEEP), -EOPNOTSUPP);
});

const SCEN = `
kernel: { profile: PROFILE }
machine: { memoryBytes: 1GiB }
mounts: [{ fs: tmpfs, target: /mnt }]
steps:
  - create:    { path: /mnt/f, sizeBytes: 16KiB, content: written }
  - mkdir:     { path: /mnt/d }
  - open:      { path: /mnt/f, flags: [O_RDONLY], fd: ro }
  - open:      { path: /mnt/d, flags: [O_RDONLY], fd: dir }
  - fallocate: { fd: ro, mode: [FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_KEEP_SIZE], offsetBytes: 0, lengthBytes: 4KiB,
                 expect: { errno: COLLAPSE_KEEP } }
  - fallocate: { fd: ro, mode: [FALLOC_FL_WRITE_ZEROES], offsetBytes: 0, lengthBytes: 4KiB, expect: { errno: WZ } }
  - fallocate: { fd: ro, mode: [], offsetBytes: 1125899906842624, lengthBytes: 4KiB, expect: { errno: EBADF } }
  - fallocate: { fd: dir, mode: [], offsetBytes: 0, lengthBytes: 4KiB, expect: { errno: EBADF } }
`;

test('the mode is checked before FMODE_WRITE, FMODE_WRITE before EISDIR and EFBIG (fallocate-order runs, 6.1 and 6.18)', () => {
  for (const [profile, ck, wz] of [['linux-6.1', 'EINVAL', 'EOPNOTSUPP'], ['linux-6.18', 'EOPNOTSUPP', 'EBADF']]) {
    const text = SCEN.replace('PROFILE', profile!).replace('COLLAPSE_KEEP', ck!).replace('WZ', wz!);
    const r = runScenario(parseScenario(text, 'test'), { collectHostTime: false });
    assert.deepEqual(r.failures, [], profile);
  }
});
