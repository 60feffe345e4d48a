// Issue 17 ("Nothing breaks it"): regression tests for the classes the API fuzzer found, each
// against the kernel check it models (Linux 6.1 / 6.18 source, named per test), and a short
// seeded fuzz run (src/fuzz/) with its determinism and its shrinker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Machine } from '../src/api/machine.ts';
import { generate } from '../src/fuzz/program.ts';
import { runProgram, signature } from '../src/fuzz/run.ts';
import { shrink } from '../src/fuzz/shrink.ts';

const MiB = 2 ** 20;
const EXT4_MAX = 0xffffffff * 4096; // ext4_max_size, fs/ext4/super.c
function ext4(dax = false): Machine {
  const m = new Machine({ profile: 'linux-6.1', memoryBytes: 256 * MiB,
    devices: [{ name: 'd0', type: dax ? 'pmem' : 'block', sizeBytes: 64 * MiB }] });
  m.mkfs('d0', 'ext4');
  assert.equal(m.mount('/t', 'ext4', 'd0', dax ? ['dax'] : []), 0);
  return m;
}

test('ftruncate/fallocate past ext4 s_maxbytes: EFBIG, not an extent-tree assertion (inode_newsize_ok, vfs_fallocate)', () => {
  for (const dax of [false, true]) {
    const p = ext4(dax).process();
    const fd = p.open('/t/a', 0x42);
    assert.equal(p.ftruncate(fd, EXT4_MAX + 4096), -27);
    assert.equal(p.ftruncate(fd, EXT4_MAX), 0); // exactly s_maxbytes is allowed
    assert.equal(p.fallocate(fd, 0, EXT4_MAX - 4096, 8192), -27);
    assert.equal(p.pwrite(fd, 1, EXT4_MAX, 7), -27); // generic_write_check_limits
    assert.equal(p.pread(fd, 4096, EXT4_MAX + 4096), 0); // filemap_read: nothing at or past s_maxbytes
  }
});

test('values no C caller can pass get EINVAL; negative sizes wrap as size_t (rw_verify_area, do_vmi_munmap)', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 256 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/a', 0x42);
  for (const bad of [NaN, Infinity, -Infinity, 0.5]) {
    assert.equal(p.ftruncate(fd, bad), -22);
    assert.equal(p.pread(fd, 4096, bad), -22);
    assert.equal(p.fallocate(fd, 0, 0, bad), -22);
    assert.equal(p.mmap(0, bad, 3, 0x22, -1, 0), -22);
  }
  assert.equal(p.pwrite(fd, 4096.5, 0, 1), -22);
  assert.equal(p.pwrite(fd, -1, 0, 1), -22); // (ssize_t)count < 0
  const a = p.mmap(0, 8192, 3, 0x22, -1, 0);
  assert.ok(a > 0);
  assert.equal(p.munmap(a, -4096), -22); // len > TASK_SIZE - start
  assert.ok(p.vmaAt(a) !== null, 'the mapping is still there');
  assert.equal(p.mmap(0, -4096, 3, 0x22, -1, 0), -12); // PAGE_ALIGN(len) > TASK_SIZE: ENOMEM
  assert.equal(p.mprotect(a, -4096, 1), -12); // do_mprotect_pkey: end <= start
  assert.equal(p.madvise(a, -4096, 4), -22); // do_madvise: end < start
  assert.equal(p.access(a, 8192, 0, false), -22, 'a zero stride is refused, not an endless loop');
  assert.equal(p.load(-4096), -11);
  assert.equal(p.lastSignal?.signo, 11);
});

test('paths resolve as link_path_walk does: //, ., .., trailing slash, missing directory (fs/namei.c)', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 64 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/f', 0x42);
  assert.equal(p.pwrite(fd, 3, 0, 9), 3);
  const st = (path: string) => { const s = p.stat(path); return typeof s === 'number' ? s : s.ino; };
  const ino = st('/t/f');
  assert.equal(st('/t//f'), ino);
  assert.equal(st('/t/./f'), ino);
  assert.equal(st('//t/../t/f'), ino);
  assert.equal(p.open('/t/sub/g', 0x42), -2, 'creating a file in a missing directory: ENOENT');
  assert.equal(p.open('/t/f/', 2), -20, 'a trailing slash on a file: ENOTDIR');
  assert.equal(p.open('/t/f/x', 2), -20, 'a file used as a directory: ENOTDIR');
  assert.equal(p.open('/t/new/', 0x42), -21, 'O_CREAT of a name with a trailing slash: EISDIR');
  assert.equal(p.open('/t', 2), -21);
  assert.equal(p.unlink('/t//f'), 0);
  assert.equal(st('/t/f'), -2);
});

test('pwrite on O_APPEND appends; a buffer shorter than the count is a short write (generic_write_checks)', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 64 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/f', 0x42 | 0x400);
  assert.equal(p.pwrite(fd, 100, 0, 1), 100);
  assert.equal(p.pwrite(fd, 100, 0, 2), 100);
  const st = p.stat('/t/f');
  assert.ok(typeof st !== 'number' && st.sizeBytes === 200, 'the second pwrite went to EOF');
  const out = new Uint8Array(1);
  p.pread(fd, 1, 0, out);
  assert.equal(out[0], 1, 'offset 0 was not overwritten');
  assert.equal(p.pwrite(fd, 4096, 0, new Uint8Array(10).fill(5)), 10);
  assert.equal(p.pwrite(fd, 4096, 0, new Uint8Array(0)), -14); // nothing copied: EFAULT
});

test('msync over a gap below another shared mapping: ENOMEM, not an XArray assertion (mm/msync.c)', () => {
  const m = new Machine({ profile: 'linux-6.18', memoryBytes: 64 * MiB });
  m.mount('/t', 'tmpfs');
  const p = m.process();
  const fd = p.open('/t/f', 0x42);
  p.ftruncate(fd, 65536);
  const a = p.mmap(0, 65536, 3, 1, fd, 0);
  assert.equal(p.munmap(a, 32768), 0);
  assert.equal(p.msync(a, 16384, 4), -12);
});

test('API fuzzer: fixed seeds run, the same seed gives the same trace, a finding shrinks to a short reproducer', () => {
  let kinds = 0;
  for (let seed = 1000; seed < 1012; seed++) {
    const prog = generate(seed, 25);
    const a = runProgram(prog), b = runProgram(prog);
    assert.deepEqual(a.trace, b.trace, `seed ${seed} is deterministic`);
    if (a.finding) kinds++;
  }
  assert.ok(kinds <= 12);
  // A planted model bug the shadow must catch: a pwrite that reports success but writes nothing.
  const prog = { seed: 0, profile: 'linux-6.18', fs: 'tmpfs' as const, calls: [
    { op: 'open', a: [0, 0x42] }, { op: 'load', a: [0, 0] }, { op: 'pwrite', a: [0, 4096, 0, 7, 0] },
    { op: 'mmap', a: [0, 4096, 3, 1, 0, 0] }, { op: 'pread', a: [0, 10, 0] }, { op: 'load', a: [0, 5] }] };
  assert.equal(runProgram(prog).finding, null, 'the honest program passes');
  const orig = Machine.prototype.process;
  Machine.prototype.process = function (this: Machine, name?: string) {
    const p = orig.call(this, name);
    p.pwrite = (_fd: number, len: number) => len;
    return p;
  };
  try {
    const r = runProgram(prog);
    assert.ok(r.finding && r.finding.kind === 'mismatch', 'the shadow sees the missing bytes');
    const s = shrink(prog, signature(r.finding));
    assert.ok(s.calls.length < prog.calls.length, `shrunk to ${s.calls.length} calls`);
    assert.ok(s.result.code.some((l) => l.startsWith('p.pwrite(')), 'the reproducer is TypeScript calls');
  } finally { Machine.prototype.process = orig; }
});

test('a scenario over 16 MiB is refused before the YAML parser runs (SCENARIO_BYTES_MAX), with a clear error', async () => {
  const { parseScenario } = await import('../src/scenario/parse.ts');
  const { ScenarioError } = await import('../src/scenario/types.ts');
  const text = 'name: big\nsteps: []\n' + '# padding\n'.repeat(1_700_000);
  const t0 = performance.now();
  assert.throws(() => parseScenario(text, 'big.yaml'), (e: unknown) => e instanceof ScenarioError &&
    /at most 16777216/.test(e.message));
  assert.ok(performance.now() - t0 < 1000, 'refused at once, not after a parse');
});
