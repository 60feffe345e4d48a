// The `loop` step and background threads running any step kind under the scheduler, with the
// locks syscalls take as the kernel does (lib/rwsem.ts: mmap_lock per mm_struct, i_rwsem and
// invalidate_lock per inode, kernel/locking/rwsem.c v6.18; who takes which: mm/util.c
// vm_mmap_pgoff, mm/mprotect.c do_mprotect_pkey, fs/ext4/file.c ext4_dax_huge_fault,
// fs/ext4/extents.c ext4_fallocate, v6.1/v6.18). The single-threaded parts of the xfstests
// examples are checked on real kernels in test/oracle-runs/generic-43{7,446}-serial.*.jsonl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';

const run = (text: string) => runScenario(parseScenario(text, 't.yaml'), { collectHostTime: false });
const HEAD = `
kernel: { profile: linux-6.18 }
machine: { memoryBytes: 1GiB, cpus: 2 }
mounts: [ { fs: tmpfs, target: /mnt } ]
steps:
  - create: { path: /mnt/f, sizeBytes: 1MiB }
  - open:   { path: /mnt/f, flags: [O_RDWR], fd: f }
  - mmap:   { fd: f, lengthBytes: 1MiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED], map: m }
`;

test('an inline loop runs its body repeat times and returns the rounds (a program\'s for loop)', () => {
  const r = run(HEAD + `  - loop: { repeat: 3, steps: [ { pwrite: { fd: f, offsetBytes: 0, lengthBytes: 4KiB } } ] }\n`);
  assert.equal(r.steps[3]!.result, 3);
  assert.deepEqual(r.failures, []);
});

test('a background loop of syscalls runs beside the main thread and wait joins it when finite', () => {
  const r = run(HEAD + `  - loop: { thread: t, background: true, repeat: 20, steps: [ { madvise: { map: m, advice: MADV_DONTNEED } } ] }
  - access: { map: m, op: read }
  - wait:   { thread: t }
  - stat:   { path: /mnt/f }
`);
  assert.equal(r.steps[4]!.result, 256);
  assert.equal(r.steps[5]!.result, 0);
  assert.deepEqual(r.failures, []);
});

test('the interleaving is deterministic: the same scenario gives the same simulated times', () => {
  const text = readFileSync('examples/xfstests-generic-446.yaml', 'utf8');
  const a = run(text), b = run(text);
  assert.deepEqual(a.failures, []);
  assert.deepEqual(a.steps.map((s) => s.simNs), b.steps.map((s) => s.simNs));
  assert.deepEqual(a.reports, b.reports);
});

test('loop: bad forms are refused with the reason', () => {
  const bad = (step: string, re: RegExp) => assert.throws(() => run(HEAD + step), re);
  bad(`  - loop: { steps: [ { stat: { path: /mnt/f } } ] }\n`, /needs repeat/);
  bad(`  - loop: { background: true, steps: [ { stat: { path: /mnt/f } } ] }\n`, /needs its own thread/);
  bad(`  - loop: { repeat: 1, steps: [ { stat: { path: /mnt/f, expect: { errno: ok } } } ] }\n`, /no expect/);
  bad(`  - loop: { repeat: 1, steps: [ { wait: {} } ] }\n`, /cannot run inside a loop/);
  bad(`  - loop: { repeat: 1, steps: [] }\n`, /at least one step/);
});
