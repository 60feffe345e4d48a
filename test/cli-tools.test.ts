// The command line of issue 13: parseArgs options, deterministic versioned JSON, variants side by
// side on worker threads with shards and merge, --breakdown, the sqlite run store. Fault counts
// in these checks are the model's own (covered against real kernels elsewhere: the tmpfs
// example's 2048 fault-around faults are the 6.18 host oracle's, test/oracle-linux-6.18.test.ts);
// what is checked here is that the tools report them faithfully.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'daxsim-tools-'));

/** A small DAX scenario: 64 read faults on a 256 KiB written file (no fault-around on DAX). */
const SMALL = join(dir, 'small.yaml');
writeFileSync(SMALL, `name: small dax read
machine: { memoryBytes: 1GiB, devices: [ { name: pmem0, type: pmem, sizeBytes: 1GiB } ] }
kernel: { profile: linux-6.1 }
steps:
  - mkfs: { device: pmem0, fs: ext4 }
  - mount: { device: pmem0, target: /mnt, options: [dax] }
  - create: { path: /mnt/f, sizeBytes: 256KiB, content: written, fsync: true }
  - open: { path: /mnt/f, flags: [O_RDONLY], fd: f }
  - mmap: { fd: f, lengthBytes: 256KiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read }
  - report: { name: r, expect: { rusage: { minflt: 64 } } }
`);

test('--version prints package.json\'s version; every command has --help; --opt=value works', () => {
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const v = cli('--version');
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), `daxsim ${pkg.version}`);
  for (const c of ['run', 'merge', 'compare']) {
    const h = cli(c, '--help');
    assert.equal(h.status, 0, c);
    assert.match(h.stdout, /usage/, c);
  }
  const eq = cli('run', 'examples/tmpfs-seq-read.yaml', '--trace-limit=2');
  assert.equal(eq.status, 0, eq.stderr);
  assert.equal(eq.stdout.split('\n').filter((l) => l.startsWith('fault ')).length, 2);
});

test('usage errors are short (one message and a pointer to --help), exit 2, no stack', () => {
  const r = cli('run', SMALL, '--frob');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^daxsim: run: unknown option "--frob"/);
  assert.match(r.stderr, /\(daxsim run --help for usage\)/);
  assert.ok(r.stderr.split('\n').length <= 3, r.stderr);
  const set = cli('run', SMALL, '--set', 'faultAroundByts=4096');
  assert.equal(set.status, 2);
  assert.match(set.stderr, /^daxsim: run: --set faultAroundByts: not a knob \(did you mean "faultAroundBytes"\?\)\n/);
  const shard = cli('run', SMALL, '--shard', '3/2');
  assert.equal(shard.status, 2);
  assert.match(shard.stderr, /--shard expects i\/n with 1 <= i <= n, got "3\/2"/);
});

test('run --json is byte-identical run to run, versioned, with units; --host-times adds wall times', () => {
  const a = cli('run', SMALL, '--json'), b = cli('run', SMALL, '--json');
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout, 'same scenario, same bytes');
  const j = JSON.parse(a.stdout) as { schemaVersion: number; daxsimVersion: string; units: Record<string, string>;
    scenario: { sha256: string }; steps: Array<Record<string, unknown>> };
  assert.equal(j.schemaVersion, 1);
  assert.match(j.scenario.sha256, /^[0-9a-f]{64}$/);
  assert.equal(j.units['simNs'], 'ns (simulated)');
  assert.ok(j.steps.every((s) => !('hostWallNs' in s)));
  const h = JSON.parse(cli('run', SMALL, '--json', '--host-times').stdout) as typeof j;
  assert.ok(h.steps.every((s) => typeof s['hostWallNs'] === 'number'));
});

test('--breakdown: every simulated ns of a single-task step is in a category; faults by kind', () => {
  const r = cli('run', SMALL, '--json', '--breakdown');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { steps: Array<{ index: number; simNs: number }>;
    breakdown: { steps: Array<{ index: number; totalNs: number; byCategoryNs: Record<string, number> }>;
      faults: Record<string, { count: number; totalNs: number; byCategoryNs: Record<string, number> }> } };
  for (const s of j.steps) assert.equal(j.breakdown.steps.find((b) => b.index === s.index)!.totalNs, s.simNs, `step ${s.index}`);
  const f = j.breakdown.faults['read minor PTE']!;
  assert.equal(f.count, 64);
  for (const c of ['faultEntry', 'pageTable', 'daxEntry', 'iomapBegin']) assert.ok(f.byCategoryNs[c]! > 0, c);
  const access = j.breakdown.steps.find((b) => b.index === 5)!;
  assert.equal(access.byCategoryNs['faultEntry'], f.byCategoryNs['faultEntry']);
  const text = cli('run', SMALL, '--breakdown').stdout;
  assert.match(text, /# faults read minor PTE: 64 faults, [\d.]+ us each/);
  assert.match(text, /^\s+\d+\.\d\d%\s+[\d.]+ [mu]?s\s+fault entry\/exit$/m);
});

test('--profile a,b and --set sweeps run side by side (JSON keyed by variant, table within 120 columns)', () => {
  const r = cli('run', SMALL, '--profile', 'linux-4.15,linux-6.1', '--set', 'daxPmd=true,false', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { variantOrder: string[]; variants: Record<string, { profile: string; knobs: Record<string, unknown> }> };
  assert.deepEqual(j.variantOrder, ['linux-4.15 daxPmd=true', 'linux-4.15 daxPmd=false', 'linux-6.1 daxPmd=true', 'linux-6.1 daxPmd=false']);
  assert.equal(j.variants['linux-6.1 daxPmd=false']!.profile, 'linux-6.1');
  assert.deepEqual(j.variants['linux-6.1 daxPmd=false']!.knobs, { daxPmd: false });
  const again = cli('run', SMALL, '--profile', 'linux-4.15,linux-6.1', '--set', 'daxPmd=true,false', '--json', '--threads', '1');
  assert.equal(again.stdout, r.stdout, 'one thread or many: the same bytes');
  const t = cli('run', SMALL, '--profile=linux-4.15,linux-6.1,linux-6.18,rfc-kani-2014,dax-2014,linux-4.13', '--set=readaheadPages=32,64');
  assert.equal(t.status, 1, 'Kani\'s map_pages fails the 64-fault expect');
  assert.match(t.stderr, /\[rfc-kani-2014 readaheadPages=32\] steps\[6\] \(report r\): rusage\.minflt expected 64, got 9/);
  assert.ok(t.stdout.split('\n').every((l) => l.length <= 120), 'every line within 120 columns');
  assert.match(t.stdout, /^r rusage\.minflt\s+64\s+64/m);
});

test('--shard i/n slices a sweep and merge joins the shards into the unsharded document', () => {
  const args = [SMALL, '--profile', 'linux-4.15,linux-6.1,linux-6.18', '--set', 'daxPmd=true,false', '--json'];
  const n = 2;
  const full = cli('run', ...args);
  assert.equal(full.status, 0, full.stderr);
  const files = [1, 2].map((i) => {
    const f = join(dir, `shard${i}.json`);
    const s = cli('run', ...args, '--shard', `${i}/${n}`);
    assert.equal(s.status, 0, s.stderr);
    writeFileSync(f, s.stdout);
    return f;
  });
  const first = JSON.parse(readFileSync(files[0]!, 'utf8')) as { variantOrder: string[] };
  assert.deepEqual(first.variantOrder, ['linux-4.15 daxPmd=true', 'linux-6.1 daxPmd=true', 'linux-6.18 daxPmd=true']);
  const m = cli('merge', ...files.slice().reverse());
  assert.equal(m.status, 0, m.stderr);
  assert.equal(m.stdout, full.stdout);
  const missing = cli('merge', files[1]!);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /shard\(s\) 1\/2 missing/);
});

test('--store keeps runs in sqlite; runs lists them; compare shows what changed and exits 1', () => {
  const db = join(dir, 'runs.db');
  assert.equal(cli('run', SMALL, '--store', db).status, 0);
  assert.equal(cli('run', SMALL, '--store', db, '--profile', 'linux-6.1,rfc-kani-2014').status, 1, 'Kani fails the expect');
  const list = cli('runs', '--store', db);
  assert.equal(list.status, 0, list.stderr);
  assert.equal(list.stdout.trim().split('\n').length, 1 + 3);
  assert.match(list.stdout, /^ 3  small dax read  rfc-kani-2014 .* 1 failed$/m);
  const same = cli('compare', '1', '2', '--store', db);
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /no differences/);
  const diff = cli('compare', '1', '3', '--store', db);
  assert.equal(diff.status, 1);
  assert.match(diff.stdout, /^\s+r rusage\.minflt\s+64\s+(\d+)\s+[-+]\d+/m);
  const sets = cli('compare', 'profile=linux-6.1', 'profile=rfc-kani-2014', '--store', db);
  assert.equal(sets.status, 1, sets.stderr);
  const bad = cli('compare', 'colour=red', '1', '--store', db);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /selector "colour=red"/);
});
