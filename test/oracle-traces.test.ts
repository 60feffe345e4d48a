// Tracepoints recorded on real kernels (`daxsim kernel --trace --record`, src/oracle/trace-compare.ts):
// every run in test/oracle-runs/ that carries an `ftrace` line is replayed in the model with
// FtraceWriter, and the event sequences of each step (names, addresses as mapping+offset, file
// offsets) must be the kernel's, except the steps listed in the Tracepoints table of
// test/oracle-runs/KNOWN-DIFFERENCES.md (which must still differ). The scenarios are
// test/oracle-traces/*.yaml, recorded on the Debian 5.10 (5.10.0-32), 6.1 (6.1.0-50), 6.12
// (6.12.117+deb13) and 7.2 (7.2.12+deb14) guests on ext4-dax and ext4. No kernel is booted here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { modelScenario, traceDiffsOf, type RecordMeta } from '../src/oracle/command.ts';
import { profileFor } from '../src/oracle/profiles.ts';
import { modelRun } from '../src/oracle/model-side.ts';
import type { RealRun, RunnerHeader } from '../src/oracle/host.ts';
import { compareTraces, eventKey, guestTraceEvents, isMetadata, kernelStepEvents, mapRanges, modelStepLines,
  parseTraceLines, runnerLines } from '../src/oracle/trace-compare.ts';

const DIR = join(import.meta.dirname, 'oracle-runs');

interface Loaded { file: string; meta: RecordMeta; real: RealRun }

function load(file: string): Loaded | null {
  const lines = readFileSync(join(DIR, file), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const trace = lines.find((l) => Array.isArray(l.ftrace))?.ftrace as string[] | undefined;
  if (trace === undefined) return null;
  const meta = lines.find((l) => l.meta === 1) as RecordMeta;
  const header = lines.find((l) => l.hdr === 1) as RunnerHeader;
  return { file, meta, real: { header, steps: lines.filter((l) => typeof l.i === 'number'), warnings: [], trace } };
}

/** `| trace: FILE | STEP | ...` rows of KNOWN-DIFFERENCES.md, as `FILE#STEP`. */
function knownTraceDifferences(): Set<string> {
  const rows = readFileSync(join(DIR, 'KNOWN-DIFFERENCES.md'), 'utf8').split('\n')
    .map((l) => /^\|\s*trace: ([\w.-]+\.jsonl)\s*\|\s*(\d+)\s*\|/.exec(l)).filter((m) => m !== null);
  return new Set(rows.map((m) => `${m[1]}#${m[2]}`));
}

const known = knownTraceDifferences();
const runs = readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort().map(load).filter((x) => x !== null);

interface Prepared { s: ReturnType<typeof modelScenario>; profile: string; model: ReturnType<typeof modelRun>['steps'] }

function prepared(r: Loaded): Prepared {
  const m = r.meta;
  const s = modelScenario(m.text, m.scenario, m.fsOverride ?? undefined, m.readAheadKb ?? undefined);
  const profile = profileFor(r.meta.kernel).profile;
  return { s, profile, model: modelRun(s, { softDirty: r.real.header.soft_dirty }, profile).steps };
}

test('traced runs exist: DAX PTE read, DAX PMD fault, page-cache fault-around on 5.10, 6.1, 6.12, 7.2', () => {
  const names = runs.map((r) => r.file);
  for (const k of ['5.10', '6.1', '6.12', '7.2']) {
    for (const f of [`trace-dax-pte-read.linux-${k}.ext4-dax.jsonl`, `trace-dax-pmd.linux-${k}.ext4-dax.jsonl`,
      `trace-faultaround.linux-${k}.ext4.jsonl`]) assert.ok(names.includes(f), `${f} in ${names.join(', ')}`);
  }
});

test('6.12, 7.2: a DAX fault under the per-VMA lock falls back from ->huge_fault and is redone under mmap_lock', () => {
  // vmf_can_call_fault (mm/memory.c 6.7+): ext4's DAX vm_ops have no ->map_pages; the 6.12 and 7.2 guests'
  // trace shows dax_pmd_fault twice per fault that falls back, first with VMA_LOCK; 6.1 has no
  // per-VMA lock: once.
  const r72 = runs.find((x) => x.file === 'trace-dax-pmd.linux-7.2.ext4-dax.jsonl')!;
  const r612 = runs.find((x) => x.file === 'trace-dax-pmd.linux-6.12.ext4-dax.jsonl')!;
  const r61 = runs.find((x) => x.file === 'trace-dax-pmd.linux-6.1.ext4-dax.jsonl')!;
  const pmdFaults = (r: Loaded): number[] => [...kernelStepEvents(r.real.trace!).values()]
    .map((evs) => evs.filter((e) => e.event === 'dax_pmd_fault').length).filter((n) => n > 0);
  // A PMD fault that succeeds (the huge zero page of step 7) is done under the VMA lock: once.
  for (const r of [r72, r612]) {
    assert.ok(pmdFaults(r).includes(2) && pmdFaults(r).includes(1), `${r.file}: ${pmdFaults(r).join(',')}`);
  }
  assert.ok(pmdFaults(r61).every((n) => n === 1), `6.1 kernel: ${pmdFaults(r61).join(',')}`);
  for (const r of [r72, r612, r61]) {
    const p = prepared(r);
    const model = [...modelStepLines(p.s, p.profile).values()]
      .map((ls) => parseTraceLines(ls).filter((e) => e.event === 'dax_pmd_fault').length).filter((n) => n > 0);
    assert.deepEqual(model, pmdFaults(r), `${r.file}: the model's dax_pmd_fault count per step`);
  }
});

for (const r of runs) {
  test(`model tracepoints against ${r.file} (per step: event names, mapping offsets, file offsets)`, () => {
    const p = prepared(r);
    const diffs = traceDiffsOf(p, r.real);
    assert.ok(diffs !== null);
    const shown = diffs.filter((d) => !known.has(`${r.file}#${d.step}`))
      .map((d) => `step ${d.step}: model [${d.model.join(', ')}] kernel [${d.kernel.join(', ')}]`);
    assert.deepEqual(shown, [], `${r.file}: steps whose event sequence differs from the kernel's`);
    const differing = new Set(diffs.map((d) => `${r.file}#${d.step}`));
    const fixed = [...known].filter((k) => k.startsWith(`${r.file}#`) && !differing.has(k));
    assert.deepEqual(fixed, [], `${r.file}: listed in KNOWN-DIFFERENCES.md but equal now (remove the row)`);
    // The comparison is not empty: the kernel's steps carry faults the model matched.
    const evs = [...kernelStepEvents(r.real.trace!).values()].flat();
    assert.ok(evs.some((e) => e.event === 'page_fault_user'), `${r.file}: page_fault_user recorded`);
  });
}

test('a missing or extra kernel event is a difference (the replay can fail)', () => {
  const r = runs.find((x) => x.file.startsWith('trace-dax-pmd'))!;
  const p = prepared(r);
  const kernel = kernelStepEvents(r.real.trace!);
  const model = modelStepLines(p.s, p.profile);
  const maps = mapRanges(p.s, p.model);
  assert.deepEqual(compareTraces(model, kernel, maps, r.real.header.shift), []);
  const step = [...kernel].find(([, evs]) => evs.some((e) => e.event === 'dax_pmd_load_hole'))!;
  const cut = new Map(kernel);
  cut.set(step[0], step[1].filter((e) => e.event !== 'dax_pmd_load_hole'));
  const d = compareTraces(model, cut, maps, r.real.header.shift);
  assert.deepEqual(d.map((x) => x.step), [step[0]]);
  assert.ok(d[0]!.model.some((k) => k.startsWith('dax_pmd_load_hole')));
  // A different VM_FAULT result of the same event is a difference too.
  const res = new Map(kernel);
  res.set(step[0], step[1].map((e) => (e.event === 'dax_pmd_fault_done'
    ? { ...e, fields: e.fields.replace(/NOPAGE$/, 'FALLBACK') } : e)));
  assert.deepEqual(compareTraces(model, res, maps, r.real.header.shift).map((x) => x.step), [step[0]]);
});

test('events are attributed by the runner\'s trace_marker brackets and pid; other tasks are dropped', () => {
  const lines = [
    '             exe-128     [000] .....    13.8: tracing_mark_write: daxsim B 4',
    '             exe-128     [000] d....    13.9: page_fault_user: address=0x7f0000001000 ip=0x4 error_code=0x4',
    '  jbd2/vda-8-122 [001] .....  13.9: mm_filemap_add_to_page_cache: dev 0:3 ino fe00000 pfn=0x1 ofs=0 order=0',
    '             exe-128     [000] .....    14.0: tracing_mark_write: daxsim E 4',
    '             exe-128     [000] d....    14.1: page_fault_user: address=0x7f0000002000 ip=0x4 error_code=0x4',
  ];
  const k = kernelStepEvents(lines);
  assert.deepEqual([...k.keys()], [4]);
  assert.deepEqual(k.get(4)!.map((e) => e.event), ['page_fault_user']);
  assert.equal(eventKey(k.get(4)![0]!, [{ name: 'm', start: 0x7f0000000000, end: 0x7f0000100000 }], 0),
    'page_fault_user m+0x1000 0x4');
  assert.equal(runnerLines(lines).length, 4, 'the jbd2 kthread line is not kept');
});

test('ext4 metadata in the page cache (buddy cache inode 1, the block device inode) is not compared', () => {
  // Seen in the 6.1 guest's create step: ext4_mb_init_backend's buddy cache is EXT4_BAD_INO; the
  // bdev inode of /dev/pmem0 (259:0) is numbered by its dev_t, 0x10300000 (fs/ext4/mballoc.c, block/bdev.c v6.1).
  const [buddy, bdev, file] = parseTraceLines([
    '  exe-1 [000] .....  1.0: mm_filemap_add_to_page_cache: dev 259:0 ino 1 pfn=0x1 ofs=8192 order=0',
    '  exe-1 [000] .....  1.0: mm_filemap_add_to_page_cache: dev 0:3 ino 10300000 pfn=0x2 ofs=532480 order=0',
    '  exe-1 [000] .....  1.0: mm_filemap_add_to_page_cache: dev 254:0 ino d pfn=0x3 ofs=0 order=0',
  ]);
  assert.deepEqual([isMetadata(buddy!), isMetadata(bdev!), isMetadata(file!)], [true, true, false]);
  // 5.10 numbers the block device's inode 0 (the 5.10 guest's create step).
  const [bdev510] = parseTraceLines(['  exe-1 [000] ....  1.0: mm_filemap_add_to_page_cache: dev 0:3 ino 0 ' +
    'page=fffffa73452810c0 pfn=1351747 ofs=532480']);
  assert.equal(isMetadata(bdev510!), true);
  const recorded = runs.flatMap((r) => [...kernelStepEvents(r.real.trace!).values()].flat());
  assert.ok(recorded.some(isMetadata), 'the recorded runs hold such events (the filter is not dead code)');
});

test('the guest enables the tracepoint systems the profile prints (fs_dax only where the version has it)', () => {
  assert.ok(guestTraceEvents('linux-6.1').includes('fs_dax'));
  assert.ok(guestTraceEvents('linux-6.1').includes('exceptions/page_fault_user'));
  assert.ok(!guestTraceEvents('linux-3.15').includes('fs_dax'), 'fs_dax tracepoints came with 4.x');
});
