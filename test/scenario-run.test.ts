// Running scenarios (src/scenario/run.ts) and the daxsim CLI (src/cli/main.ts). The kernel
// behaviour each example checks is named on its test; the rest checks the runner's own rules
// (failure messages, exit codes) as specified in run.ts and main.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../src/scenario/parse.ts';
import { loadScenarioFile } from '../src/scenario/load.ts';
import { createPageByte, runScenario } from '../src/scenario/run.ts';
import { ScenarioError } from '../src/scenario/types.ts';

const run = (file: string) => runScenario(loadScenarioFile(file), { collectHostTime: false });

test('tmpfs sequential read: fault-around maps 16 pages per fault, so 32768 pages take 2048 faults (reference §2, do_fault_around; 6.18 counts pgfault once per completed fault)', () => {
  const r = run('examples/tmpfs-seq-read.yaml');
  assert.deepEqual(r.failures, []);
  assert.equal(r.profile, 'linux-6.18');
  assert.equal(r.reports['pass1']?.vmstat['pgfault'], 2048);
  assert.equal(r.reports['pass1']?.rusage.minflt, 2048);
  assert.equal(r.reports['pass1']?.smaps['m']?.['Rss'], 128 * 1024);
  const access = r.steps[3];
  assert.equal(access?.op, 'access');
  assert.equal(access?.result, 32768);
  assert.equal(access?.signal, undefined);
});

test('ext4 cold read after drop_caches: the first fault is major and reads from the device (filemap_fault -> page_cache_sync_ra, mm/filemap.c)', () => {
  const r = run('examples/ext4-cold-read.yaml');
  assert.deepEqual(r.failures, []);
  const rep = r.reports['cold'];
  assert.ok(rep);
  assert.ok(rep.rusage.majflt > 0, `majflt ${rep.rusage.majflt}`);
  assert.equal(rep.vmstat['pgpgin'], 16 * 1024, 'every 1 KiB of the 16 MiB file is read in once');
  assert.deepEqual(rep.files['/mnt/ext4/data'], { sizeBytes: 16 << 20, blocks: 32768 });
});

test('truncate below a mapped page gives SIGBUS on the first page past the new EOF (filemap_fault returning VM_FAULT_SIGBUS beyond i_size, mm/filemap.c)', () => {
  const r = run('examples/truncate-sigbus.yaml');
  assert.deepEqual(r.failures, []);
  const second = r.steps[5];
  assert.equal(second?.result, -7);
  assert.deepEqual(second?.signal, { signal: 'SIGBUS', addr: (r.steps[2]?.result as number) + 3 * 4096, page: 3 });
  assert.equal(r.reports['after_truncate']?.files['/mnt/shm/f']?.sizeBytes, 12288);
});

test('create writes each page with its own fill byte, never 0', () => {
  assert.equal(createPageByte(0), 1);
  assert.equal(createPageByte(1), 8);
  assert.equal(createPageByte(256 * 7 + 255), ((255 * 7 + 1) & 0xff) || 1);
  for (let i = 0; i < 1024; i++) assert.notEqual(createPageByte(i), 0);
});

const SMALL = `name: small
machine: { memoryBytes: 256MiB }
mounts: [ { fs: tmpfs, target: /mnt/shm } ]
steps:
  - create: { path: /mnt/shm/f, sizeBytes: 64KiB }
  - open:   { path: /mnt/shm/f, flags: [O_RDWR], fd: f }
`;

test('a wrong expect produces a failure naming the step index, op and field', () => {
  const s = parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read, pages: [0] }
  - report: { name: pass1, expect: { vmstat: { pgfault: 2 }, rusage: { minflt: 1 } } }
`, 'wrong.yaml');
  const r = runScenario(s, { collectHostTime: false });
  assert.deepEqual(r.failures, ['steps[4] (report pass1): vmstat.pgfault expected 2, got 1']);
});

test('expect counters on a non-report step are checked against that step alone', () => {
  const s = parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read, pages: [0, 15], expect: { vmstat: { pgfault: 1 }, rusage: { minflt: 2 } } }
`, 'step.yaml');
  const r = runScenario(s, { collectHostTime: false });
  // Page 0's fault maps all 16 pages (fault-around 64 KiB), so page 15 needs no fault.
  assert.deepEqual(r.failures, ['steps[3] (access): rusage.minflt expected 2, got 1']);
});

test('MAP_SHARED_VALIDATE with an unknown flag bit is EOPNOTSUPP (mm/mmap.c do_mmap, LEGACY_MAP_MASK check; mmap(2))', () => {
  const ok = parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARED_VALIDATE, 0x200000], map: m,
            expect: { errno: EOPNOTSUPP } }
`, 'validate.yaml');
  const r = runScenario(ok, { collectHostTime: false });
  assert.deepEqual(r.failures, []);
  assert.equal(r.steps[2]?.errno, 'EOPNOTSUPP');
  const wrong = parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARED_VALIDATE, 0x200000], map: m,
            expect: { errno: ok } }
`, 'validate.yaml');
  assert.deepEqual(runScenario(wrong, { collectHostTime: false }).failures, ['steps[2] (mmap): errno expected ok, got EOPNOTSUPP']);
});

test('unsupported features are refused with a ScenarioError naming where', () => {
  const um = parseScenario(`${SMALL}  - umount: { target: /mnt/shm }\n`, 'u.yaml');
  assert.throws(() => runScenario(um), (e: unknown) => e instanceof ScenarioError && e.message.includes('steps[2] (umount): umount is not supported yet'));
  const knob = parseScenario(`${SMALL}  - setKnob: { name: readaheadPages, value: 4 }\n`, 'k.yaml');
  assert.throws(() => runScenario(knob), (e: unknown) => e instanceof ScenarioError && e.message.includes('steps[2] (setKnob)'));
});

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8' });

test('CLI: run --json prints one JSON object with the run result', () => {
  const p = cli('run', 'examples/tmpfs-seq-read.yaml', '--json');
  assert.equal(p.status, 0, p.stderr);
  const out = JSON.parse(p.stdout) as { name: string; profile: string; failures: string[]; reports: Record<string, { vmstat: Record<string, number> }>; steps: unknown[] };
  assert.equal(out.name, 'sequential read of a cached tmpfs file');
  assert.equal(out.profile, 'linux-6.18');
  assert.deepEqual(out.failures, []);
  assert.equal(out.reports['pass1']?.vmstat['pgfault'], 2048);
  assert.equal(out.steps.length, 6);
});

test('CLI: a malformed scenario exits 2 with a message naming the step and field, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-cli-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, `${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARD], map: m }\n`);
  const p = cli('run', file);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /steps\[2\] \(mmap\)\.flags\[0\]/);
  assert.match(p.stderr, /MAP_SHARD/);
  assert.doesNotMatch(p.stderr, /\n\s+at /);
});

test('CLI: a failed expect exits 1 and prints the failure', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-cli-'));
  const file = join(dir, 'fail.yaml');
  writeFileSync(file, `${SMALL}  - report: { name: r, expect: { files: { /mnt/shm/f: { sizeBytes: 1 } } } }\n`);
  const p = cli('run', file);
  assert.equal(p.status, 1);
  assert.match(p.stderr, /steps\[2\] \(report r\): files\["\/mnt\/shm\/f"\]\.sizeBytes expected 1, got 65536/);
});

test('CLI: usage errors exit 2; profiles and help exit 0', () => {
  assert.equal(cli('frobnicate').status, 2);
  assert.equal(cli().status, 2);
  assert.equal(cli('run').status, 2);
  const profiles = cli('profiles');
  assert.equal(profiles.status, 0);
  assert.match(profiles.stdout, /^linux-6\.18\s+Linux 6\.18/m);
  assert.equal(cli('help').status, 0);
  const rep = cli('reproduce', '--frob');
  assert.equal(rep.status, 2);
  assert.match(rep.stderr, /unknown option "--frob"/);
});

/**
 * Background accesses run under the deterministic scheduler (src/kernel/sched.ts) and `wait` joins
 * them: two processes each reading their own 16 MiB tmpfs file (257 faults each at the kernel-chosen
 * address: 256 fault-around windows plus one for the unaligned start) finish together on two CPUs and
 * one after the other on one, and the same file gives the same result every time.
 */
function twoReaders(cpus: number, extra = ''): string {
  return `name: two readers
machine: { memoryBytes: 1GiB, cpus: ${cpus} }
mounts: [ { fs: tmpfs, target: /mnt/shm } ]
steps:
  - create: { path: /mnt/shm/a, sizeBytes: 16MiB, content: written }
  - create: { path: /mnt/shm/b, sizeBytes: 16MiB, content: written }
  - open: { path: /mnt/shm/b, flags: [O_RDONLY], fd: fb, thread: tb, process: pb }
  - mmap: { fd: fb, lengthBytes: 16MiB, prot: [PROT_READ], flags: [MAP_SHARED], map: mb, thread: tb }
  - open: { path: /mnt/shm/a, flags: [O_RDONLY], fd: fa }
  - mmap: { fd: fa, lengthBytes: 16MiB, prot: [PROT_READ], flags: [MAP_SHARED], map: ma }
  - report: { name: start }
  - access: { map: mb, op: read, background: true, thread: tb }
  - access: { map: ma, op: read }
  - wait: { thread: tb${extra} }
  - report: { name: joined, expect: { rusage: { minflt: 514 } } }
`;
}

test('background access + wait: two readers overlap on two CPUs and serialise on one (deterministic scheduler)', () => {
  const timeOf = (cpus: number) => {
    const r = runScenario(parseScenario(twoReaders(cpus), 'two.yaml'), { collectHostTime: false });
    assert.deepEqual(r.failures, []);
    const access = r.steps[8]!, wait = r.steps[9]!;
    assert.equal(access.op, 'access');
    assert.equal(wait.op, 'wait');
    return { alone: access.simNs, total: access.simNs + wait.simNs };
  };
  const two = timeOf(2), one = timeOf(1);
  // On two CPUs main's read and tb's read run side by side: joining waits only for the rest of tb.
  assert.ok(two.total < 1.2 * two.alone, `2 CPUs: ${two.total} vs ${two.alone}`);
  // On one CPU they time-share: the pair takes about twice one read.
  assert.ok(one.total > 1.8 * two.alone, `1 CPU: ${one.total} vs ${two.alone}`);
  assert.deepEqual(timeOf(2), two, 'same scenario, same clocks');
});

test('background access: a signal is reported by the wait that joins it; bad uses are refused', () => {
  const s = parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 128KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read, background: true, thread: t }
  - wait: { thread: t, expect: { signal: SIGBUS } }
`, 'sig.yaml');
  assert.deepEqual(runScenario(s, { collectHostTime: false }).failures, []);
  assert.throws(() => parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read, background: true, thread: t, expect: { rusage: { minflt: 1 } } }
`, 'bad.yaml'), /put expect on the wait step/);
  const noThread = parseScenario(`${SMALL}  - mmap: { fd: f, lengthBytes: 64KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read, background: true }
`, 'nothread.yaml');
  assert.throws(() => runScenario(noThread, { collectHostTime: false }), /needs its own thread/);
  const nothingToWait = parseScenario(`${SMALL}  - wait: { thread: ghost }
`, 'ghost.yaml');
  assert.throws(() => runScenario(nothingToWait, { collectHostTime: false }), /has no finite background work \(an access, a loop with repeat\) to wait for/);
});

test('Machine.traceFaults reports every counted fault with the entries it installed (fault-around: 16 PTEs per read fault)', () => {
  const events: Array<{ counted: string; entries: number; where: string; write: boolean }> = [];
  const r = runScenario(loadScenarioFile('examples/tmpfs-seq-read.yaml'), {
    collectHostTime: false,
    onMachine: (m) => m.traceFaults((e) => events.push({ counted: e.counted, entries: e.entries, where: e.where, write: e.write })),
  });
  assert.deepEqual(r.failures, []);
  const minflt = r.reports['pass1']!.rusage.minflt;
  const reads = events.filter((e) => !e.write && e.where.startsWith('/mnt/shm/data'));
  assert.equal(reads.length, minflt);
  assert.ok(reads.every((e) => e.counted === 'minor' && e.entries === 16), 'each fault-around read fault maps its 16-page window');
  assert.equal(reads[1]!.where, '/mnt/shm/data page 16');
});

test('CLI: run --trace prints one line per fault, stops at --trace-limit, and refuses --json with it', () => {
  const p = cli('run', 'examples/truncate-sigbus.yaml', '--trace');
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.split('\n').filter((l) => l.startsWith('fault '));
  assert.ok(lines.length >= 2);
  assert.match(lines.at(-1)!, /SIGBUS\s+no new entry .* page 3$/);
  const q = cli('run', 'examples/tmpfs-seq-read.yaml', '--trace-limit', '3');
  assert.equal(q.status, 0, q.stderr);
  assert.equal(q.stdout.split('\n').filter((l) => l.startsWith('fault ')).length, 3);
  assert.match(q.stdout, /\.\.\. 2045 more faults not shown \(--trace-limit 3\)/);
  const bad = cli('run', 'examples/tmpfs-seq-read.yaml', '--trace', '--json');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--trace prints text/);
  const badLimit = cli('run', 'examples/tmpfs-seq-read.yaml', '--trace-limit', 'lots');
  assert.equal(badLimit.status, 2);
  assert.match(badLimit.stderr, /--trace-limit needs a whole number/);
});
