// Scenario parsing: the file format is defined by src/scenario/types.ts (the vocabulary) and
// src/scenario/parse.ts (the rules); sizes and durations by src/scenario/units.ts. Where a rule
// mirrors Linux (flag names, MAP_ANONYMOUS needing no fd), the man page is named.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatBytes, parseBytes, parseNs } from '../src/scenario/units.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { loadScenarioFile } from '../src/scenario/load.ts';
import { ScenarioError } from '../src/scenario/types.ts';
import type { Scenario, StepBase } from '../src/scenario/types.ts';

const EXAMPLE_1 = `name: sequential read of a cached tmpfs file
kernel: { profile: linux-6.18, faultAroundBytes: 65536 }
machine: { memoryBytes: 4GiB }
mounts:
  - { fs: tmpfs, target: /mnt/shm }
steps:
  - create: { path: /mnt/shm/data, sizeBytes: 128MiB, content: written }   # written | sparse
  - open:   { path: /mnt/shm/data, flags: [O_RDONLY], fd: f }
  - mmap:   { fd: f, lengthBytes: 128MiB, prot: [PROT_READ], flags: [MAP_SHARED, MAP_FIXED],
              addrBytes: 0x7f0000000000, map: m }
  - access: { map: m, op: read, offsetBytes: 0, lengthBytes: 128MiB, strideBytes: 4KiB }
  - report: { name: pass1, expect: { vmstat: { pgfault: 2048 } } }
  - munmap: { map: m }
`;

const EXAMPLE_2 = `machine: { memoryBytes: 4GiB, devices: [ { name: pmem0, type: pmem, sizeBytes: 8GiB } ] }
kernel: { profile: linux-4.15 }
steps:
  - mkfs:  { device: pmem0, fs: ext4 }
  - mount: { device: pmem0, target: /mnt, options: [dax] }
  - create: { path: /mnt/f, sizeBytes: 128MiB, content: sparse }
  - open: { path: /mnt/f, flags: [O_RDWR], fd: f }
  - mmap: { fd: f, lengthBytes: 128MiB, prot: [PROT_READ, PROT_WRITE],
            flags: [MAP_SHARED_VALIDATE, MAP_SYNC, MAP_FIXED], addrBytes: 0x7f0000001000, map: m }
  - access: { map: m, op: read, offsetBytes: 0, lengthBytes: 128MiB, strideBytes: 4KiB }
  - report: { name: holes }
  - access: { map: m, op: write, offsetBytes: 0, lengthBytes: 2MiB, strideBytes: 4KiB }
  - report: { name: writes }
`;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The fields every step carries, for steps written with no thread/process/expect. */
function plain(index: number, line: number): StepBase {
  return { index, line, thread: undefined, process: undefined, expect: undefined };
}

/** A minimal valid scenario around the given step lines (each already indented as a list item). */
function withSteps(...steps: string[]): string {
  return `machine: { memoryBytes: 1GiB, devices: [ { name: vda, type: block, sizeBytes: 1GiB } ] }
steps:
  - open: { path: /f, flags: [O_RDWR], fd: f }
  - mmap: { fd: f, lengthBytes: 1MiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
${steps.map((s) => `  - ${s}\n`).join('')}`;
}

/** Parses text that must be refused, and returns the error. */
function refusal(text: string): ScenarioError {
  try {
    parseScenario(text, 'case.yaml');
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `expected a ScenarioError, got ${String(e)}`);
    return e;
  }
  assert.fail('the scenario was accepted');
}

test('example 1 (tmpfs page-cache read) parses to the documented structure, defaults filled in', () => {
  const s = parseScenario(EXAMPLE_1, 'example1.yaml');
  const expected: Scenario = {
    source: 'example1.yaml',
    name: 'sequential read of a cached tmpfs file',
    seed: 1,
    kernel: { profile: 'linux-6.18', knobs: { faultAroundBytes: 65536 } },
    machine: { memoryBytes: 4 * GiB, cpus: 1, devices: [] },
    mounts: [{ device: undefined, fs: 'tmpfs', target: '/mnt/shm', options: [] }],
    steps: [
      {
        op: 'create', ...plain(0, 7),
        args: { path: '/mnt/shm/data', sizeBytes: 128 * MiB, content: 'written', writeChunkBytes: 4096, fsync: false, mode: undefined },
      },
      { op: 'open', ...plain(1, 8), args: { path: '/mnt/shm/data', flags: { names: ['O_RDONLY'], extraBits: 0 }, fd: 'f' } },
      {
        op: 'mmap', ...plain(2, 9),
        args: {
          fd: 'f', lengthBytes: 128 * MiB, prot: { names: ['PROT_READ'], extraBits: 0 },
          flags: { names: ['MAP_SHARED', 'MAP_FIXED'], extraBits: 0 }, addrBytes: 0x7f0000000000, offsetBytes: 0, map: 'm',
        },
      },
      {
        op: 'access', ...plain(3, 11),
        args: { map: 'm', op: 'read', span: { kind: 'range', offsetBytes: 0, lengthBytes: 128 * MiB, strideBytes: 4096 }, order: 'ascending', exponent: undefined, orderIndex: 3, byte: undefined, background: false },
      },
      { op: 'report', ...plain(4, 12), expect: { vmstat: { pgfault: 2048 } }, args: { name: 'pass1' } },
      { op: 'munmap', ...plain(5, 13), args: { map: 'm', offsetBytes: 0, lengthBytes: undefined } },
    ],
  };
  assert.deepEqual(s, expected);
});

test('example 2 (DAX on pmem, MAP_SYNC) parses to the documented structure', () => {
  const s = parseScenario(EXAMPLE_2, 'example2.yaml');
  assert.deepEqual(s.machine, {
    memoryBytes: 4 * GiB, cpus: 1,
    devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: 8 * GiB, latencyNs: undefined, placement: undefined, readAheadKb: undefined, maxSectorsKb: undefined }],
  });
  assert.deepEqual(s.kernel, { profile: 'linux-4.15', knobs: {} });
  assert.deepEqual(s.mounts, []);
  assert.deepEqual(s.steps.map((step) => step.op), ['mkfs', 'mount', 'create', 'open', 'mmap', 'access', 'report', 'access', 'report']);
  assert.deepEqual(s.steps[0], { op: 'mkfs', ...plain(0, 4), args: { device: 'pmem0', fs: 'ext4', placement: undefined,
    xfs: { suBytes: 0, sw: 0, extsizeBytes: 0 } } });
  assert.deepEqual(s.steps[1], { op: 'mount', ...plain(1, 5), args: { device: 'pmem0', fs: undefined, target: '/mnt', options: ['dax'] } });
  assert.deepEqual(s.steps[2]?.args, { path: '/mnt/f', sizeBytes: 128 * MiB, content: 'sparse', writeChunkBytes: 4096, fsync: false, mode: undefined });
  assert.deepEqual(s.steps[3]?.args, { path: '/mnt/f', flags: { names: ['O_RDWR'], extraBits: 0 }, fd: 'f' });
  assert.deepEqual(s.steps[4]?.args, {
    fd: 'f', lengthBytes: 128 * MiB, prot: { names: ['PROT_READ', 'PROT_WRITE'], extraBits: 0 },
    flags: { names: ['MAP_SHARED_VALIDATE', 'MAP_SYNC', 'MAP_FIXED'], extraBits: 0 },
    addrBytes: 0x7f0000001000, offsetBytes: 0, map: 'm',
  });
  assert.deepEqual(s.steps[7], {
    op: 'access', ...plain(7, 12),
    args: { map: 'm', op: 'write', span: { kind: 'range', offsetBytes: 0, lengthBytes: 2 * MiB, strideBytes: 4096 }, order: 'ascending', exponent: undefined, orderIndex: 7, byte: undefined, background: false },
  });
  assert.deepEqual(s.steps[8], { op: 'report', ...plain(8, 13), args: { name: 'writes' } });
});

test('JSON input (tab-indented, sizes as strings) gives the same scenario as YAML', () => {
  const json = JSON.stringify({
    machine: { memoryBytes: '4GiB', devices: [{ name: 'pmem0', type: 'pmem', sizeBytes: '8GiB' }] },
    kernel: { profile: 'linux-4.15' },
    steps: [
      { mkfs: { device: 'pmem0', fs: 'ext4' } },
      { mount: { device: 'pmem0', target: '/mnt', options: ['dax'] } },
      { create: { path: '/mnt/f', sizeBytes: '128MiB', content: 'sparse' } },
      { open: { path: '/mnt/f', flags: ['O_RDWR'], fd: 'f' } },
      { mmap: { fd: 'f', lengthBytes: '128MiB', prot: ['PROT_READ', 'PROT_WRITE'], flags: ['MAP_SHARED_VALIDATE', 'MAP_SYNC', 'MAP_FIXED'], addrBytes: '0x7f0000001000', map: 'm' } },
      { access: { map: 'm', op: 'read', offsetBytes: 0, lengthBytes: '128MiB', strideBytes: '4KiB' } },
      { report: { name: 'holes' } },
      { access: { map: 'm', op: 'write', offsetBytes: 0, lengthBytes: '2MiB', strideBytes: '4KiB' } },
      { report: { name: 'writes' } },
    ],
  }, null, '\t');
  const fromJson = parseScenario(json, 'example2.json');
  const fromYaml = parseScenario(EXAMPLE_2, 'example2.json');
  const withoutLines = (s: Scenario) => ({ ...s, steps: s.steps.map((step) => ({ ...step, line: undefined })) });
  assert.deepEqual(withoutLines(fromJson), withoutLines(fromYaml));
  assert.equal(typeof fromJson.steps[0]?.line, 'number');
});

test('loadScenarioFile reads .yaml and .json files and names the file in errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-scenario-'));
  writeFileSync(join(dir, 'a.yaml'), EXAMPLE_1);
  writeFileSync(join(dir, 'b.json'), '{"machine": {"memoryBytes": 4096}, "steps": [{"sleep": {"durationNs": "5ms"}}]}');
  assert.equal(loadScenarioFile(join(dir, 'a.yaml')).steps.length, 6);
  assert.deepEqual(loadScenarioFile(join(dir, 'b.json')).steps[0]?.args, { durationNs: 5_000_000 });
  assert.throws(() => loadScenarioFile(join(dir, 'missing.yaml')), (e: unknown) =>
    e instanceof ScenarioError && e.message.includes('missing.yaml') && e.message.includes('cannot read'));
});

test('units: IEC sizes are powers of 1024, SI sizes powers of 1000, hex and digit strings are bytes', () => {
  assert.equal(parseBytes('4KiB', 'x'), 4096);
  assert.equal(parseBytes('128MiB', 'x'), 128 * MiB);
  assert.equal(parseBytes('2GiB', 'x'), 2 * GiB);
  assert.equal(parseBytes('1TiB', 'x'), 1024 * GiB);
  assert.equal(parseBytes('64KB', 'x'), 64_000);
  assert.equal(parseBytes('3 MB', 'x'), 3_000_000);
  assert.equal(parseBytes('4 KiB', 'x'), 4096);
  assert.equal(parseBytes('1.5KiB', 'x'), 1536);
  assert.equal(parseBytes('4096', 'x'), 4096);
  assert.equal(parseBytes(4096, 'x'), 4096);
  assert.equal(parseBytes('0x7f0000001000', 'x'), 0x7f0000001000);
  assert.equal(parseBytes('512B', 'x'), 512);
});

test('units: ambiguous, mis-cased, fractional, negative and oversized sizes are refused with where and a hint', () => {
  assert.throws(() => parseBytes('4 kb', 'steps[3].mmap.lengthBytes'), {
    message: 'steps[3].mmap.lengthBytes: expected a size like 4KiB or 4096, got "4 kb" (ambiguous unit "kb": write KiB for powers of 1024 or KB for powers of 1000)',
  });
  assert.throws(() => parseBytes('4k', 'w'), /ambiguous unit "k"/);
  assert.throws(() => parseBytes('4M', 'w'), /ambiguous unit "M"/);
  assert.throws(() => parseBytes('4kib', 'w'), /case-sensitive: write KiB/);
  assert.throws(() => parseBytes('1.3B', 'w'), /not a whole number of bytes/);
  assert.throws(() => parseBytes(-1, 'w'), /must be a whole number of bytes >= 0/);
  assert.throws(() => parseBytes(1.5, 'w'), /must be a whole number/);
  assert.throws(() => parseBytes('0x20000000000000', 'w'), /too large/);
  assert.throws(() => parseBytes(true, 'w'), /got true/);
  assert.throws(() => parseBytes('', 'w'), /got ""/);
});

test('units: durations in ns, us, ms, s; a bare number is nanoseconds', () => {
  assert.equal(parseNs('5s', 'x'), 5e9);
  assert.equal(parseNs('10ms', 'x'), 10_000_000);
  assert.equal(parseNs('3us', 'x'), 3000);
  assert.equal(parseNs('200ns', 'x'), 200);
  assert.equal(parseNs('1.5us', 'x'), 1500);
  assert.equal(parseNs(250, 'x'), 250);
  assert.equal(parseNs('250', 'x'), 250);
  assert.throws(() => parseNs('5sec', 'sleep.durationNs'), /^ScenarioError: sleep\.durationNs: expected a duration.*\(write s\)$/s);
  assert.throws(() => parseNs('1.5ns', 'x'), /not a whole number of ns/);
  assert.throws(() => parseNs('0x10', 'x'), /expected a duration/);
});

test('units: formatBytes prints the largest exact IEC unit', () => {
  assert.equal(formatBytes(128 * MiB), '128 MiB');
  assert.equal(formatBytes(4096), '4 KiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(1000), '1000 B');
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(8 * GiB), '8 GiB');
  assert.equal(formatBytes(MiB + 1), '1048577 B');
  assert.throws(() => formatBytes(-1), /formatBytes/);
});

test('sizes inside a scenario are converted, and their errors carry the step, field and line', () => {
  const e = refusal(withSteps('access: { map: m, op: read, lengthBytes: 4 kb }'));
  assert.equal(e.where, 'steps[2] (access).lengthBytes');
  assert.equal(e.line, 5);
  assert.match(e.message, /^case\.yaml:5: steps\[2\] \(access\)\.lengthBytes: expected a size like 4KiB or 4096, got "4 kb"/);
});

test('knob overrides: keys ending Bytes take sizes, Ns durations, others pass through (kernel and setKnob)', () => {
  const s = parseScenario(`kernel: { profile: rfc-x, faultAroundBytes: 64KiB, journalCommitNs: 5ms, daxMapPages: true, faultAroundStyle: pte }
machine: { memoryBytes: 1GiB }
steps:
  - setKnob: { name: faultAroundBytes, value: 16KiB }
  - setKnob: { name: daxPmd, value: false }
`, 'k.yaml');
  assert.deepEqual(s.kernel, {
    profile: 'rfc-x',
    knobs: { faultAroundBytes: 65536, journalCommitNs: 5_000_000, daxMapPages: true, faultAroundStyle: 'pte' },
  });
  assert.deepEqual(s.steps.map((step) => step.args), [{ name: 'faultAroundBytes', value: 16384 }, { name: 'daxPmd', value: false }]);
  assert.equal(refusal('kernel: { faultAroundBytes: lots }\nmachine: { memoryBytes: 1GiB }\nsteps: []\n').where, 'kernel.faultAroundBytes');
});

test('every op with all optional arguments, thread/process/expect, and shorthand forms', () => {
  const s = parseScenario(withSteps(
    'spawn: { thread: t2, process: p2 }',
    'create: { path: /g, sizeBytes: 1MiB, writeChunkBytes: 64KiB, fsync: true, mode: "0640", thread: t2 }',
    'read: { fd: f, lengthBytes: 8KiB, chunkBytes: 4KiB }',
    'write: { fd: f, lengthBytes: 8KiB, byte: 0xa5 }',
    'pread: { fd: f, lengthBytes: 4KiB, offsetBytes: 1MiB }',
    'pwrite: { fd: f, lengthBytes: 4KiB, expect: { errno: ok, result: 4KiB } }',
    'ftruncate: { fd: f, sizeBytes: 2MiB }',
    'fallocate: { fd: f, offsetBytes: 0, lengthBytes: 1MiB, mode: [FALLOC_FL_PUNCH_HOLE, FALLOC_FL_KEEP_SIZE] }',
    'fsync: { fd: f }',
    'fdatasync: { fd: f }',
    'stat: { path: /f, expect: { files: { /f: { sizeBytes: 2MiB, blocks: 0 } } } }',
    'unlink: { path: /g }',
    'mmap: { lengthBytes: 2MiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_PRIVATE, MAP_ANON, 0x40000], map: anon }',
    'mprotect: { map: m, lengthBytes: 4KiB, prot: [PROT_NONE] }',
    'madvise: { map: m, advice: MADV_DONTNEED }',
    'msync: { map: m, offsetBytes: 4KiB, lengthBytes: 8KiB, flags: [MS_SYNC, MS_INVALIDATE] }',
    'access: { map: anon, op: write, pages: [3, 1, 2], order: descending, byte: 7, expect: { signal: SIGBUS, signalPage: 3 } }',
    'load: { map: m, offsetBytes: 100 }',
    'store: { map: anon, offsetBytes: 100, byte: 255 }',
    'flush: { map: anon, offsetBytes: 0, lengthBytes: 64, insn: clwb }',
    'fence: { insn: sfence }',
    'mkfs: { device: vda, fs: ext4, placement: unaligned }',
    'mount: { device: vda, fs: ext4, target: /mnt/disk, options: ["dax=always"] }',
    'umount: { target: /mnt/disk }',
    'dropCaches: 1',
    'dropCaches: {}',
    'sleep: { durationNs: 3us, process: p2 }',
    'report: { name: r, expect: { rusage: { minflt: 1, majflt: 0 }, meminfo: { Cached: 4 }, events: { daxFault: 1 }, smaps: { m: { Rss: 4, VmFlags: "rd sh" } } } }',
    'munmap: { map: anon, offsetBytes: 4KiB }',
  ), 'all-ops.yaml');
  const byOp = (i: number) => s.steps[i + 2];
  assert.deepEqual(byOp(0), { op: 'spawn', index: 2, line: 5, thread: 't2', process: 'p2', expect: undefined, args: { thread: 't2', process: 'p2' } });
  assert.deepEqual(byOp(1)?.args, { path: '/g', sizeBytes: MiB, content: 'written', writeChunkBytes: 65536, fsync: true, mode: 0o640 });
  assert.equal(byOp(1)?.thread, 't2');
  assert.deepEqual(byOp(2)?.args, { fd: 'f', lengthBytes: 8192, chunkBytes: 4096, buffer: undefined, bufferOffsetBytes: 0 });
  assert.deepEqual(byOp(3)?.args, { fd: 'f', lengthBytes: 8192, chunkBytes: undefined, buffer: undefined, bufferOffsetBytes: 0, byte: 0xa5, data: undefined });
  assert.deepEqual(byOp(4)?.args, { fd: 'f', lengthBytes: 4096, chunkBytes: undefined, buffer: undefined, bufferOffsetBytes: 0, offsetBytes: MiB });
  assert.deepEqual(byOp(5)?.args, { fd: 'f', lengthBytes: 4096, chunkBytes: undefined, buffer: undefined, bufferOffsetBytes: 0, byte: undefined, data: undefined, offsetBytes: 0 });
  assert.deepEqual(byOp(5)?.expect, { errno: 'ok', result: 4096 });
  assert.deepEqual(byOp(7)?.args, { fd: 'f', offsetBytes: 0, lengthBytes: MiB, mode: { names: ['FALLOC_FL_PUNCH_HOLE', 'FALLOC_FL_KEEP_SIZE'], extraBits: 0 } });
  assert.deepEqual(byOp(10)?.expect, { files: { '/f': { sizeBytes: 2 * MiB, blocks: 0 } } });
  assert.deepEqual(byOp(12)?.args, {
    fd: undefined, lengthBytes: 2 * MiB, prot: { names: ['PROT_READ', 'PROT_WRITE'], extraBits: 0 },
    flags: { names: ['MAP_PRIVATE', 'MAP_ANONYMOUS'], extraBits: 0x40000 }, addrBytes: undefined, offsetBytes: 0, map: 'anon',
  });
  assert.deepEqual(byOp(13)?.args, { map: 'm', offsetBytes: 0, lengthBytes: 4096, prot: { names: ['PROT_NONE'], extraBits: 0 } });
  assert.deepEqual(byOp(14)?.args, { map: 'm', offsetBytes: 0, lengthBytes: undefined, advice: 'MADV_DONTNEED' });
  assert.deepEqual(byOp(16)?.args, { map: 'anon', op: 'write', span: { kind: 'pages', pages: [3, 1, 2] }, order: 'descending', exponent: undefined, orderIndex: 18, byte: 7, background: false });
  assert.deepEqual(byOp(17)?.args, { map: 'm', offsetBytes: 100, sizeBytes: 1 });
  assert.deepEqual(byOp(18)?.args, { map: 'anon', offsetBytes: 100, byte: 255, bytes: [255] });
  assert.deepEqual(byOp(16)?.expect, { signal: 'SIGBUS', signalPage: 3 });
  assert.deepEqual(byOp(21)?.args, { device: 'vda', fs: 'ext4', placement: 'unaligned',
    xfs: { suBytes: 0, sw: 0, extsizeBytes: 0 } });
  assert.deepEqual(byOp(24)?.args, { value: 1 });
  assert.deepEqual(byOp(25)?.args, { value: 3 });
  assert.deepEqual(byOp(26)?.args, { durationNs: 3000 });
  assert.equal(byOp(26)?.process, 'p2');
  assert.deepEqual(byOp(27)?.expect, {
    rusage: { minflt: 1, majflt: 0 }, meminfo: { Cached: 4 }, events: { daxFault: 1 }, smaps: { m: { Rss: 4, VmFlags: 'rd sh' } },
  });
  assert.deepEqual(byOp(28)?.args, { map: 'anon', offsetBytes: 4096, lengthBytes: undefined });
});

test('refusals name the step, the field and the problem', () => {
  const cases: [string, string, RegExp][] = [
    ['mmpa: { map: m }', 'steps[2].mmpa', /unknown op "mmpa"; did you mean mmap\?/],
    ['open: { path: /f, flags: [O_RDONLY] }', 'steps[2] (open)', /missing fd/],
    ['open: { path: /f, flags: [O_RDONLY, O_CREATE], fd: g }', 'steps[2] (open).flags[1]', /unknown flag "O_CREATE"; did you mean O_CREAT\? \(allowed: O_RDONLY, O_WRONLY/],
    ['open: { path: /f, flags: [O_CREAT], fd: g }', 'steps[2] (open).flags', /exactly one access mode/],
    ['open: { path: f, flags: [O_RDONLY], fd: g }', 'steps[2] (open).path', /absolute path/],
    ['close: { fd: 3 }', 'steps[2] (close).fd', /expected a name/],
    ['close: { fd: g }', 'steps[2] (close).fd', /fd "g" is not declared by an earlier open step \(known: f\)/],
    ['mmap: { lengthBytes: 4KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: x }', 'steps[2] (mmap)', /missing fd \(required unless flags include MAP_ANONYMOUS\)/],
    ['mmap: { fd: f, lengthBytes: 4KiB, prot: [PROT_READ], flags: [MAP_SHARED, MAP_ANONYMOUS], map: x }', 'steps[2] (mmap).fd', /has no file/],
    ['mmap: { fd: f, lengthBytes: 4KiB, prot: [PROT_READ], flags: [MAP_SHARED, MAP_FIXED], map: x }', 'steps[2] (mmap)', /missing addrBytes \(required with MAP_FIXED\)/],
    ['mmap: { fd: f, lengthBytes: 4KiB, prot: [PROT_READ], flags: [MAP_SHARED, MAP_SHARED], map: x }', 'steps[2] (mmap).flags[1]', /MAP_SHARED is listed twice/],
    ['mmap: { fd: f, lengthBytes: 4KiB, prot: [PROT_READ], flags: [toString], map: x }', 'steps[2] (mmap).flags[0]', /unknown flag "toString"/],
    ['mmap: { fd: f, lengthBytes: 4KiB, prot: PROT_READ, flags: [MAP_SHARED], map: x }', 'steps[2] (mmap).prot', /expected a list, got "PROT_READ"/],
    ['mmap: { fd: f, lenghtBytes: 4KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: x }', 'steps[2] (mmap).lenghtBytes', /unknown key "lenghtBytes"; did you mean lengthBytes\?/],
    ['munmap: { map: m, length: 4KiB }', 'steps[2] (munmap).length', /unknown key "length"; did you mean lengthBytes\?/],
    ['access: { map: m, op: read, pages: [0], lengthBytes: 4KiB }', 'steps[2] (access).pages', /either pages or offsetBytes\/lengthBytes\/strideBytes, not both/],
    ['access: { map: m, op: read, byte: 1 }', 'steps[2] (access).byte', /only for op: write/],
    ['access: { map: m, op: fetch }', 'steps[2] (access).op', /expected one of read, write, got "fetch"/],
    ['access: { map: m, op: read, strideBytes: 0 }', 'steps[2] (access).strideBytes', /greater than 0/],
    ['store: { map: m, offsetBytes: 0, byte: 256 }', 'steps[2] (store).byte', /from 0 to 255/],
    ['madvise: { map: m, advice: MADV_WILLNEEDED }', 'steps[2] (madvise).advice', /did you mean MADV_WILLNEED\?/],
    ['create: { path: /g, sizeBytes: 1MiB, mode: 0644 }', 'steps[2] (create).mode', /quoted octal string.*decimal number 644/],
    ['create: { path: /g, sizeBytes: 1MiB, content: zeros }', 'steps[2] (create).content', /expected one of written, sparse/],
    ['create: { path: /g, sizeBytes: 1MiB, fsync: yes }', 'steps[2] (create).fsync', /expected true or false, got "yes"/],
    ['mount: { device: vdb, target: /mnt }', 'steps[2] (mount).device', /device "vdb" is not declared by machine.devices; did you mean vda\?/],
    ['mount: { fs: tmpfs, device: vda, target: /mnt }', 'steps[2] (mount).device', /tmpfs takes no device/],
    ['mkfs: { device: vda, fs: btrfs }', 'steps[2] (mkfs).fs', /expected one of ext4, xfs, tmpfs/],
    ['mkfs: { device: vda, fs: ext4, suBytes: 2MiB }', 'steps[2] (mkfs).suBytes', /mkfs.xfs option; this mkfs makes ext4/],
    ['mkfs: { device: vda, fs: xfs, extsizeBytes: 1000 }', 'steps[2] (mkfs).extsizeBytes', /multiple of the 4 KiB/],
    ['mkfs: { device: vda, fs: xfs, sw: 2 }', 'steps[2] (mkfs).sw', /sw needs suBytes/],
    ['dropCaches: 4', 'steps[2] (dropCaches).value', /expected one of 1, 2, 3/],
    ['spawn: { process: p }', 'steps[2] (spawn)', /missing thread/],
    ['sleep: { durationNs: 5 sec }', 'steps[2] (sleep).durationNs', /expected a duration/],
    ['report: { name: r, expect: { vmstat: { pgfault: many } } }', 'steps[2] (report).expect.vmstat.pgfault', /expected a whole number/],
    ['report: { name: r, expect: { errno: EINVALID } }', 'steps[2] (report).expect.errno', /did you mean EINVAL\?/],
    ['report: { name: r, expect: { signalPage: 1 } }', 'steps[2] (report).expect.signalPage', /needs signal: SIGBUS or SIGSEGV/],
    ['report: { name: r, expect: { smaps: { q: { Rss: 1 } } } }', 'steps[2] (report).expect.smaps.q', /map "q" is not declared/],
    ['report: { name: r, expect: { files: { rel: {} } } }', 'steps[2] (report).expect.files.rel', /absolute path/],
    ['report: { name: r, expect: { vmstats: {} } }', 'steps[2] (report).expect.vmstats', /did you mean vmstat\?/],
    ['report: { name: r }\n  - report: { name: r }', 'steps[3] (report).name', /duplicate report name "r" \(first used at steps\[2\] \(report\)\.name\)/],
    ['report: { name: r }\n    thread: t', 'steps[2]', /exactly one key, its op; got report, thread \(thread, process and expect go inside/],
  ];
  for (const [step, where, detail] of cases) {
    const e = refusal(withSteps(step));
    assert.equal(e.where, where, `for ${step}: ${e.message}`);
    assert.match(e.detail, detail, `for ${step}`);
    assert.equal(e.line, 5 + (where.startsWith('steps[3]') ? 1 : 0), `line for ${step}`);
    assert.ok(e.message.startsWith(`case.yaml:${e.line}: ${where}: `), e.message);
  }
});

test('refusals outside steps: top-level keys, machine, devices, mounts, YAML syntax', () => {
  const cases: [string, string, RegExp, number | undefined][] = [
    ['machine: { memoryBytes: 1GiB }\nstep: []\n', 'step', /unknown key "step"; did you mean steps\?/, 2],
    ['machine: { memoryBytes: 1GiB }\n', '', /missing steps/, 1],
    ['steps: []\n', '', /missing machine/, 1],
    ['machine: { memoryBytes: 1GiB, cpus: 0 }\nsteps: []\n', 'machine.cpus', /from 1 to 1024/, 1],
    ['machine:\n  memoryBytes: 1GiB\n  devices:\n    - { name: d, type: nvme, sizeBytes: 1GiB }\nsteps: []\n', 'machine.devices[0].type', /expected one of block, pmem/, 4],
    ['machine:\n  memoryBytes: 1GiB\n  devices: [ { name: d, type: pmem, sizeBytes: 1GiB }, { name: d, type: pmem, sizeBytes: 1GiB } ]\nsteps: []\n',
      'machine.devices[1].name', /declared twice/, 3],
    ['machine: { memoryBytes: 1GiB }\nmounts:\n  - { fs: ext4, target: /mnt }\nsteps: []\n', 'mounts[0]', /missing device \(required for ext4\)/, 3],
    ['machine: { memoryBytes: 1GiB }\nseed: -1\nsteps: []\n', 'seed', /whole number/, 2],
    ['machine: { memoryBytes: 1GiB }\nsteps:\n  - sleep: { durationNs: 1 }\n   - x\n', '', /^YAML: /, 4],
    ['machine: { memoryBytes: 1GiB }\nmachine: { memoryBytes: 2GiB }\nsteps: []\n', '', /YAML: Map keys must be unique/, 2],
    ['', '', /empty/, undefined],
  ];
  for (const [text, where, detail, line] of cases) {
    const e = refusal(text);
    assert.equal(e.where, where, e.message);
    assert.match(e.detail, detail, e.message);
    assert.equal(e.line, line, e.message);
  }
});

test('references follow step order: an fd or map must be declared by an earlier step, and may be re-declared', () => {
  const e = refusal(`machine: { memoryBytes: 1GiB }
steps:
  - close: { fd: f }
  - open: { path: /f, flags: [O_RDONLY], fd: f }
`);
  assert.equal(e.where, 'steps[0] (close).fd');
  assert.match(e.detail, /known: none yet/);
  const s = parseScenario(withSteps('close: { fd: f }', 'close: { fd: f, expect: { errno: EBADF } }',
    'open: { path: /f, flags: [O_RDONLY], fd: f }'), 'ok.yaml');
  assert.deepEqual(s.steps[3]?.expect, { errno: 'EBADF' });
});
