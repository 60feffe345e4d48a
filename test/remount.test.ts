// Read-only remount (src/fs/remount.ts): fs/super.c reconfigure_super / sb_prepare_remount_readonly,
// fs/namei.c (open, unlink, mkdir on a read-only mount), 6.1 and 6.18; measured by
// examples/remount-ro.yaml on the 6.18 host (tmpfs and ext4 in a private mount namespace) and the
// 6.1 guest (test/oracle-runs/remount-ro.linux-*.jsonl, replayed by test/oracle-runs.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';
import { encodeScenario } from '../src/oracle/encode.ts';
import { NotRunnableError } from '../src/oracle/encode.ts';

const HEAD = `
kernel: { profile: linux-6.18 }
machine: { memoryBytes: 1GiB }
mounts: [{ fs: tmpfs, target: /mnt }]
steps:
  - create:  { path: /mnt/f, sizeBytes: 8KiB, content: written }
`;
const run = (steps: string) => runScenario(parseScenario(HEAD + steps, 'test'), { collectHostTime: false });

test('remount ro is EBUSY while a writer holds the file: descriptor, then only a mapping of it (remount-ro runs)', () => {
  const r = run(`
  - open:    { path: /mnt/f, flags: [O_RDWR], fd: w }
  - remount: { target: /mnt, mode: ro, expect: { errno: EBUSY } }
  - mmap:    { fd: w, lengthBytes: 8KiB, prot: [PROT_READ], flags: [MAP_PRIVATE], map: p }
  - close:   { fd: w }
  - remount: { target: /mnt, mode: ro, expect: { errno: EBUSY } }
  - munmap:  { map: p }
  - remount: { target: /mnt, mode: ro, expect: { errno: ok } }
  - remount: { target: /mnt/f, mode: rw, expect: { errno: EINVAL } }
`);
  assert.deepEqual(r.failures, []);
});

test('on a read-only mount: write opens, O_TRUNC, O_CREAT of a new name, unlink are EROFS; EEXIST and ENOENT first', () => {
  const r = run(`
  - remount: { target: /mnt, mode: ro }
  - open:    { path: /mnt/f, flags: [O_WRONLY], fd: a, expect: { errno: EROFS } }
  - open:    { path: /mnt/f, flags: [O_RDONLY, O_TRUNC], fd: b, expect: { errno: EROFS } }
  - open:    { path: /mnt/g, flags: [O_RDWR, O_CREAT], fd: c, expect: { errno: EROFS } }
  - open:    { path: /mnt/f, flags: [O_RDONLY, O_CREAT, 0x80], fd: d, expect: { errno: EEXIST } }
  - open:    { path: /mnt/g, flags: [O_RDONLY], fd: e, expect: { errno: ENOENT } }
  - unlink:  { path: /mnt/g, expect: { errno: EROFS } }
  - open:    { path: /mnt/f, flags: [O_RDONLY], fd: r, expect: { errno: ok } }
  - mmap:    { fd: r, lengthBytes: 8KiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_PRIVATE], map: p }
  - store:   { map: p, offsetBytes: 0, sizeBytes: 1, value: 7, expect: { signal: none } }
  - remount: { target: /mnt, mode: rw }
  - open:    { path: /mnt/g, flags: [O_RDWR, O_CREAT], fd: c2, expect: { errno: ok } }
`);
  assert.deepEqual(r.failures, []);
});

test('an unlinked file still open blocks a read-only remount (s_remove_count) until it is closed', () => {
  const r = run(`
  - open:    { path: /mnt/f, flags: [O_RDONLY], fd: u }
  - unlink:  { path: /mnt/f }
  - remount: { target: /mnt, mode: ro, expect: { errno: EBUSY } }
  - close:   { fd: u }
  - remount: { target: /mnt, mode: ro, expect: { errno: ok } }
`);
  assert.deepEqual(r.failures, []);
});

test('the runner remounts only a filesystem of the run: without one a remount step is not runnable', () => {
  const s = parseScenario(HEAD + '  - remount: { target: /mnt, mode: ro }\n', 'test');
  assert.throws(() => encodeScenario(s, { dirs: { '/mnt': '/dev/shm/daxsim-x' } }), NotRunnableError);
  const ok = encodeScenario(s, { dirs: { '/mnt': '/mnt/tmpfs/m0' }, remountable: true });
  assert.match(ok.text, /^step 1 remount \/mnt\/tmpfs 1$/m);
});
