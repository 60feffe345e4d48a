// `daxsim run --trace ftrace|perfetto` (issue 13). Every ftrace line is checked field by field
// against the `print fmt` of its event in the profile's version: for 6.18 the format files of
// this machine's 6.18 kernel (test/trace-formats/linux-6.18, copied from /sys/kernel/tracing), for
// 6.1 and 4.15 the TP_printk layouts of those versions' headers (test/trace-formats/README.md).
// The converter from print fmt to a pattern is itself checked on real 6.18 trace text
// (sample-trace.txt). The event sequence of a MAP_SYNC fault is the one the 6.1 guest traced
// (../shared/oracle/linux-6.1-guest.md §3: dax_pte_fault_done ... MAJOR|NEEDDSYNC, then
// dax_insert_pfn_mkwrite, 511 dax_writeback_range per 512 faults).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const cli = (...args: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8' });
const FORMATS = new URL('./trace-formats/', import.meta.url);

interface Format { re: RegExp; flagNames: Set<string> }

/** A print fmt's string as a pattern: each conversion becomes the text the kernel or libtraceevent prints. */
function formatPattern(fmt: string): RegExp {
  const conv: Record<string, string> = {
    '%d': '-?\\d+', '%u': '\\d+', '%lu': '\\d+', '%#lx': '(?:0|0x[0-9a-f]+)', '%#llx': '(?:0|0x[0-9a-f]+)',
    '%lx': '[0-9a-f]+', '%#x': '(?:0|0x[0-9a-f]+)', '%s': '(\\S*)', '%ps': '0x[0-9a-f]+', '%p': '0x[0-9a-f]+',
  };
  let re = '';
  for (const part of fmt.split(/(%#?l{0,2}[dxus]|%ps|%p)/)) {
    if (part === '') continue;
    re += conv[part] ?? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function loadFormats(version: string): Map<string, Format> {
  const dir = new URL(`${version}/`, FORMATS);
  const out = new Map<string, Format>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.format'))) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    const name = /^name: (\S+)/m.exec(text)![1]!;
    const fmt = /^print fmt: "((?:[^"\\]|\\.)*)"/m.exec(text)![1]!;
    // Symbolic ({ FAULT_FLAG_WRITE, "WRITE" }) or numeric ({ 0x01, "WRITE" }, the 5.10 guest's) entries.
    const flagNames = new Set([...text.matchAll(/\{ (?:[A-Z_]+|0x[0-9a-f]+), "([A-Z_]+)" \}/g)].map((m) => m[1]!));
    out.set(name, { re: formatPattern(fmt), flagNames });
  }
  return out;
}

/** `trace-cmd report`: comm-pid [cpu] secs.usecs: event: fields (the kernel's trace file adds latency flags). */
const LINE = /^\s*(\S+)-(\d+)\s+\[(\d{3})\]\s+(?:[.dNhHsb]{4,5}\s+)?(\d+\.\d{6}): ([a-z0-9_]+): (.*)$/;

test('the print-fmt converter reads real 6.18 trace text (host sample)', () => {
  const fmts = loadFormats('linux-6.18');
  const lines = readFileSync(new URL('linux-6.18/sample-trace.txt', FORMATS), 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#'));
  assert.ok(lines.length >= 6);
  for (const l of lines) {
    const m = LINE.exec(l);
    assert.ok(m, l);
    assert.match(m[6]!, fmts.get(m[5]!)!.re, l);
  }
});

/** Run the every-event example on `profile` and check each line against `version`'s formats. */
function checkVersion(profile: string, version: string, mustHave: string[], mustNotHave: string[]): Map<string, number> {
  const fmts = loadFormats(version);
  const r = cli('run', 'examples/trace-dax-events.yaml', `--profile=${profile}`, '--trace', 'ftrace', '--trace-limit', '100000');
  assert.equal(r.status, 0, r.stderr);
  const seen = new Map<string, number>();
  let last = -1;
  for (const l of r.stdout.split('\n').filter((x) => LINE.test(x))) {
    const m = LINE.exec(l)!;
    const [, comm, pid, cpu, ts, event, fields] = m;
    assert.equal(comm, 'main');
    assert.equal(pid, '1000');
    assert.equal(cpu, '000');
    assert.ok(Number(ts) >= last, `timestamps never go back: ${l}`);
    last = Number(ts);
    const f = fmts.get(event!);
    assert.ok(f, `${profile}: ${event} is not an event of ${version}`);
    const fm = f.re.exec(fields!);
    assert.ok(fm, `${profile}: ${l}\n  does not match the print fmt of ${event}`);
    // Every flag name printed is one the version's format lists (6.18 lists them; older: a subset).
    const names = new Set(fmts.get('dax_pte_fault')?.flagNames ?? []);
    if (names.size > 0) {
      for (const g of fm.slice(1)) for (const n of (g ?? '').split('|')) if (/^[A-Z_]+$/.test(n) && !['shared', 'private'].includes(n)) {
        assert.ok(names.has(n), `${n} in ${l}`);
      }
    }
    seen.set(event!, (seen.get(event!) ?? 0) + 1);
  }
  for (const e of mustHave) assert.ok(seen.has(e), `${profile}: no ${e}`);
  for (const e of mustNotHave) assert.ok(!seen.has(e), `${profile}: ${e} should not fire`);
  return seen;
}

const ALWAYS = ['page_fault_user', 'dax_pte_fault', 'dax_pte_fault_done', 'dax_load_hole', 'dax_pmd_fault',
  'dax_pmd_fault_done', 'dax_pmd_load_hole', 'dax_insert_pfn_mkwrite', 'dax_writeback_range',
  'dax_writeback_range_done', 'dax_writeback_one', 'jbd2_start_commit', 'jbd2_commit_locking',
  'jbd2_commit_flushing', 'jbd2_commit_logging', 'jbd2_end_commit', 'mm_filemap_add_to_page_cache',
  'mm_filemap_delete_from_page_cache'];

test('ftrace lines of linux-6.18 match the 6.18 host kernel format files, field by field', () => {
  const seen = checkVersion('linux-6.18', 'linux-6.18', ALWAYS, ['dax_insert_mapping']);
  assert.equal(seen.get('mm_filemap_add_to_page_cache'), seen.get('mm_filemap_delete_from_page_cache'));
});

test('ftrace lines of linux-6.1 match 6.1 layouts; the insert_mapping events exist but no longer fire', () => {
  const fmts = loadFormats('linux-6.1');
  assert.equal([...fmts.keys()].filter((n) => n.startsWith('dax_')).length, 14, '6.1 has 14 fs_dax events');
  checkVersion('linux-6.1', 'linux-6.1', ALWAYS, ['dax_insert_mapping', 'dax_pmd_insert_mapping']);
});

test('ftrace lines of linux-5.10 match the 5.10 guest\'s format files, with dax_insert_mapping firing', () => {
  // test/trace-formats/linux-5.10: printed by the Debian 5.10 guest (5.10.0-32) during a --trace boot;
  // its trace of test/oracle-traces/*.yaml shows dax_insert_mapping after each PTE fault's mapping.
  const fmts = loadFormats('linux-5.10');
  assert.equal([...fmts.keys()].filter((n) => n.startsWith('dax_')).length, 14, '5.10 has 14 fs_dax events');
  checkVersion('linux-5.10', 'linux-5.10', [...ALWAYS, 'dax_insert_mapping'], []);
});

test('ftrace lines of linux-4.15 match 4.15 layouts, with dax_insert_mapping firing', () => {
  checkVersion('linux-4.15', 'linux-4.15', [...ALWAYS, 'dax_insert_mapping'], []);
});

test('a MAP_SYNC write fault traces NEEDDSYNC then dax_insert_pfn_mkwrite, as the 6.1 guest did', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-trace-'));
  const file = join(dir, 'ms.yaml');
  writeFileSync(file, `name: map-sync
machine: { memoryBytes: 1GiB, devices: [ { name: pmem0, type: pmem, sizeBytes: 1GiB } ] }
kernel: { profile: linux-6.1 }
steps:
  - mkfs: { device: pmem0, fs: ext4 }
  - mount: { device: pmem0, target: /mnt, options: [dax] }
  - create: { path: /mnt/f, sizeBytes: 2MiB, content: sparse }
  - open: { path: /mnt/f, flags: [O_RDWR], fd: f }
  - mmap: { fd: f, lengthBytes: 2MiB, prot: [PROT_READ, PROT_WRITE], flags: [MAP_SHARED_VALIDATE, MAP_SYNC, MAP_FIXED], addrBytes: 0x7f0000001000, map: m }
  - access: { map: m, op: write, lengthBytes: 2MiB }
`);
  const r = cli('run', file, '--trace=ftrace', '--trace-limit=1000000');
  assert.equal(r.status, 0, r.stderr);
  const ev = r.stdout.split('\n').map((l) => LINE.exec(l)).filter((m) => m !== null).map((m) => [m[5]!, m[6]!] as const);
  const done = ev.filter(([e]) => e === 'dax_pte_fault_done');
  assert.equal(done.length, 512, 'a PTE fault per page (the VA is not 2 MiB-congruent: the PMD fault falls back)');
  assert.ok(done.every(([, f]) => f.endsWith(' MAJOR|NEEDDSYNC')), 'every fault allocates and needs a sync');
  // Between one fault's done and the next fault: the fsync (jbd2 commit) and one dax_insert_pfn_mkwrite.
  const starts = ev.map(([e], i) => (e === 'dax_pte_fault_done' ? i : -1)).filter((i) => i >= 0);
  starts.forEach((i, n) => {
    const end = starts[n + 1] ?? ev.length;
    const between = ev.slice(i + 1, end).map(([e]) => e);
    assert.equal(between.filter((e) => e === 'dax_insert_pfn_mkwrite').length, 1, `fault ${n}`);
    assert.ok(between.indexOf('jbd2_end_commit') < between.indexOf('dax_insert_pfn_mkwrite'), `fault ${n}: commit first`);
  });
  assert.equal(ev.filter(([e]) => e === 'dax_writeback_range').length, 511, 'the 6.1 guest: 511 per 512 faults');
});

test('--trace perfetto writes Chrome trace-event JSON: a track per task, fault and step slices, counters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-pf-'));
  const out = join(dir, 't.json');
  const r = cli('run', 'examples/trace-dax-events.yaml', '--trace', 'perfetto', '--trace-out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  JSON.parse(r.stdout);
  const t = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: Array<{ name: string; ph: string; ts?: number; dur?: number; tid?: number; args?: Record<string, unknown> }> };
  const ev = t.traceEvents;
  assert.ok(ev.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.['name'] === 'main'));
  const faults = ev.filter((e) => e.ph === 'X' && e.name.startsWith('fault '));
  assert.equal(faults.length, 9, 'one slice per page_fault_user of the same run');
  assert.ok(faults.every((e) => typeof e.ts === 'number' && typeof e.dur === 'number' && e.dur > 0));
  assert.ok(ev.some((e) => e.ph === 'X' && e.name === 'msync'));
  for (const c of ['Rss', 'PageTables', 'Cached', 'dirty CPU-cache lines (pmem)', 'journal commits']) {
    assert.ok(ev.some((e) => e.ph === 'C' && e.name === c), c);
  }
  const commits = ev.filter((e) => e.ph === 'C' && e.name === 'journal commits').map((e) => Number(Object.values(e.args!)[0]));
  assert.equal(Math.max(...commits), 3);
  const bad = cli('run', 'examples/trace-dax-events.yaml', '--trace', 'perfetto');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--trace perfetto needs --trace-out FILE/);
});
