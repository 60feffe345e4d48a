// Kernel profiles as validated data (issue 10, src/kernel/profiles.ts, knobs.ts, profile-bases.ts,
// profiles-rfc.ts; the ext4 DAX vm_ops tables in src/fs/ext4/dax-vm-ops.ts).
// - Every profile resolves to exactly the knob values it had before the redesign, and ext4 gives
//   each profile the same vm_operations callbacks: both compared against test/profiles.snapshot.json,
//   dumped from commit 14b96b5 before anything changed.
// - A bad knob or profile name or value is refused at load time with a ProfileError naming the knob,
//   the allowed values and the nearest one, and a scenario turns it into a ScenarioError.
// - Overrides of faultAroundBytes keep what the kernel keeps (fault_around_bytes_set, mm/memory.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  profiles, resolveProfile, checkDefinition, ProfileError, formatProfile, KNOBS, base61, base618, pre5,
  type KernelProfile,
} from '../src/kernel/profiles.ts';
import { SUBSYSTEMS, validateKnob } from '../src/kernel/knobs.ts';
import { Machine } from '../src/api/machine.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';
import { ScenarioError } from '../src/scenario/types.ts';
import type { VmOperations } from '../src/mm/mm.ts';

interface Snapshot {
  profiles: Record<string, Record<string, unknown>>;
  ext4VmOps: Record<string, { ops: Record<string, unknown>; daxOps: Record<string, unknown> }>;
}
const snapshot = JSON.parse(readFileSync(new URL('./profiles.snapshot.json', import.meta.url), 'utf8')) as Snapshot;

/** The vm_ops as the snapshot recorded them: which callbacks exist, and which one is ->fault itself. */
function shape(o: VmOperations): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) =>
    [k, typeof v === 'function' ? (v === o.fault ? 'fn(=fault)' : 'fn') : v]));
}

/** The ProfileError `f` throws (fails the test if it throws nothing or something else). */
function refusal(f: () => unknown): ProfileError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ProfileError, `expected a ProfileError, got ${String(e)}`);
    assert.ok(e instanceof Error);
    return e;
  }
  return assert.fail('expected a ProfileError, nothing was thrown');
}

test('every profile resolves to exactly the knob values it had before profiles became validated data', () => {
  // Same profiles in the same order; profiles added since (the example RFC of issue 10) come after.
  const before = Object.keys(snapshot.profiles);
  assert.deepEqual(Object.keys(profiles).slice(0, before.length), before, 'same profiles, same order');
  assert.deepEqual(Object.keys(profiles).slice(before.length), ['rfc-dax-entry-pfn']);
  for (const name of Object.keys(snapshot.profiles)) {
    const p = resolveProfile(name);
    assert.deepEqual({ ...p }, snapshot.profiles[name], name);
    assert.deepEqual(Object.keys(p), Object.keys(snapshot.profiles[name]!), `${name}: knob order`);
  }
});

test('ext4 gives every profile the vm_operations it had before the vm_ops tables (ext4_dax_vm_ops)', () => {
  for (const name of Object.keys(snapshot.ext4VmOps)) {
    const devices = [{ name: 'pmem0', type: 'pmem' as const, sizeBytes: 2 ** 30 }];
    const m = new Machine({ profile: name, memoryBytes: 2 ** 30, devices });
    assert.equal(m.mkfs('pmem0', 'ext4'), 0);
    assert.equal(m.mount('/mnt', 'ext4', 'pmem0', ['dax']), 0);
    const fs = m.k.vfs.mounts[0]!.fs as unknown as { vmOps(inode: { dax: boolean }): VmOperations };
    assert.deepEqual({ ops: shape(fs.vmOps({ dax: false })), daxOps: shape(fs.vmOps({ dax: true })) },
      snapshot.ext4VmOps[name], name);
  }
  // The rows that select them: Kani's RFC alone has a DAX ->map_pages, 4.x dax_pfn_mkwrite is not ->fault.
  assert.equal(snapshot.ext4VmOps['rfc-kani-2014']?.daxOps['mapPages'], 'fn');
  assert.equal(snapshot.ext4VmOps['linux-4.13']?.daxOps['pfnMkwrite'], 'fn');
  assert.equal(snapshot.ext4VmOps['linux-6.1']?.daxOps['pfnMkwrite'], 'fn(=fault)');
});

test('every profile passes its own schema: each knob has a row, each value its row allows', () => {
  for (const [name, p] of Object.entries(profiles)) {
    assert.equal(checkDefinition(name, p), p);
    for (const knob of Object.keys(KNOBS)) {
      assert.equal(validateKnob(knob, (p as unknown as Record<string, unknown>)[knob], false),
        (p as unknown as Record<string, unknown>)[knob], `${name}.${knob}`);
    }
  }
  // The named bases spread: 6.18 is 6.1 plus its own knobs; pre5 is a delta, not a profile.
  assert.equal(profiles['linux-6.18'], base618);
  assert.equal(base618.daxEntryPfnBits, base61.daxEntryPfnBits);
  assert.equal(profiles['linux-3.15']!.faultRetry, pre5.faultRetry);
  assert.ok(Object.isFrozen(base618));
});

test('a profile is shown grouped by subsystem, one line per knob (the schema table drives the display)', () => {
  const text = formatProfile(profiles['linux-6.18']!);
  const lines = text.split('\n');
  assert.match(lines[0]!, /^linux-6\.18: Linux 6\.18/);
  for (const s of SUBSYSTEMS) assert.ok(lines.includes(`  ${s}`), s);
  for (const knob of Object.keys(KNOBS)) {
    assert.equal(lines.filter((l) => l.trimStart().startsWith(`${knob} `)).length, 1, knob);
  }
  assert.match(text, /^ {4}perVmaLock +true +user faults first try under the per-VMA lock$/m);
  // The knob sits under its own subsystem: perVmaLock under fault, before fault-around starts.
  assert.ok(lines.indexOf('  fault') < lines.findIndex((l) => l.includes('perVmaLock')));
  assert.ok(lines.findIndex((l) => l.includes('perVmaLock')) < lines.indexOf('  fault-around'));
});

test('a string knob value outside its allowed values is refused, naming the knob, values and nearest one', () => {
  // Before the schema, daxMapPages: 'entry-pfnz' was accepted and behaved as 'none'.
  const e = refusal(() => resolveProfile('linux-6.1', { daxMapPages: 'entry-pfnz' }));
  assert.equal(e.knob, 'daxMapPages');
  assert.equal(e.value, 'entry-pfnz');
  assert.deepEqual(e.allowed, ['none', 'kani-2014', 'entry-pfn']);
  assert.equal(e.message,
    'kernel.daxMapPages: expected one of none, kani-2014, entry-pfn, got "entry-pfnz" (did you mean "entry-pfn"?)');
  const near = refusal(() => resolveProfile('linux-6.1', { daxMapPages: 'kani2014' }));
  assert.deepEqual(near.suggestion, ['kani-2014']);
  assert.equal(near.message,
    'kernel.daxMapPages: expected one of none, kani-2014, entry-pfn, got "kani2014" (did you mean "kani-2014"?)');
  assert.match(refusal(() => resolveProfile('linux-6.18', { thpAnon: 'sometimes' })).message,
    /^kernel\.thpAnon: expected one of always, madvise, never, got "sometimes"$/);
  // A valid value is taken, on any base.
  assert.equal(resolveProfile('linux-6.1', { daxMapPages: 'kani-2014' }).daxMapPages, 'kani-2014');
});

test('a value of the wrong type or outside the kernel range is refused, naming the knob and what it takes', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['daxPmd', 'yes', /^kernel\.daxPmd: expected true or false, got "yes"$/],
    ['daxPmd', 1, /^kernel\.daxPmd: expected true or false, got 1$/],
    ['daxMapPages', true, /^kernel\.daxMapPages: expected one of none, kani-2014, entry-pfn, got true$/],
    ['readaheadPages', '32', /^kernel\.readaheadPages: expected an integer of at least 0, got "32"/],
    ['readaheadPages', -1, /^kernel\.readaheadPages: expected an integer of at least 0, got -1/],
    ['lruBatchPages', 3.5, /^kernel\.lruBatchPages: expected an integer from 1 to 255, got 3\.5 \(.*unsigned char\)$/],
    ['lruBatchPages', 256, /^kernel\.lruBatchPages: expected an integer from 1 to 255, got 256/],
    ['daxEntryPfnBits', 64, /^kernel\.daxEntryPfnBits: expected an integer from 1 to 60, got 64/],
    // fault_around_bytes_set (mm/memory.c): more than 512 pages is EINVAL.
    ['faultAroundBytes', 4 * 2 ** 20,
      /^kernel\.faultAroundBytes: expected an integer from 0 to 2101247, got 4194304 \(.*EINVAL\)$/],
  ];
  for (const [knob, value, message] of cases) {
    const e = refusal(() => resolveProfile('linux-6.18', { [knob]: value }));
    assert.equal(e.knob, knob);
    assert.equal(e.value, value);
    assert.match(e.message, message);
  }
});

test('faultAroundBytes overrides keep what fault_around_bytes_set keeps: a power of two >= 4096 (mm/memory.c)', () => {
  assert.equal(resolveProfile('linux-6.1', { faultAroundBytes: 100_000 }).faultAroundBytes, 65536);
  assert.equal(resolveProfile('linux-6.1', { faultAroundBytes: 0 }).faultAroundBytes, 4096);
  assert.equal(resolveProfile('linux-6.1', { faultAroundBytes: 513 * 4096 - 1 }).faultAroundBytes, 2 ** 21);
  // A profile's own value must already be one the kernel keeps.
  const bad = { ...base61, name: 'x', faultAroundBytes: 100_000 };
  assert.match(refusal(() => checkDefinition('x', bad)).message,
    /^profile "x": kernel\.faultAroundBytes: 100000 is not a value the kernel keeps \(it would store 65536\)$/);
});

test('an unknown knob is refused with the nearest knob names and the list of knobs', () => {
  const e = refusal(() => resolveProfile('linux-6.18', { faultAroundByte: 65536 }));
  assert.equal(e.knob, 'faultAroundByte');
  assert.deepEqual(e.suggestion, ['faultAroundBytes']);
  assert.match(e.message,
    /^kernel\.faultAroundByte: not a knob \(did you mean "faultAroundBytes"\?\); knobs: faultRetry, /);
  assert.ok(e.allowed.includes('daxMapPages'));
  const far = refusal(() => resolveProfile('linux-6.18', { colour: 'blue' }));
  assert.deepEqual(far.suggestion, []);
  assert.match(far.message, /^kernel\.colour: not a knob; knobs: /);
  // name and description are the profile's, not knobs; `profile` is skipped (it names the base).
  assert.match(refusal(() => resolveProfile('linux-6.18', { name: 'mine' })).message, /^kernel\.name: not a knob/);
  assert.equal(resolveProfile('linux-6.18', { profile: 'linux-6.18' }).name, 'linux-6.18');
  // A definition with a misspelt knob fails at load time the same way.
  const bad = { ...base61, name: 'x', daxMapPage: 'none' } as unknown as KernelProfile;
  assert.match(refusal(() => checkDefinition('x', bad)).message,
    /^profile "x": kernel\.daxMapPage: not a knob \(did you mean "daxMapPages"\?\)/);
  const badValue = { ...base61, name: 'x', daxMapPages: 'entry-pfnz' } as unknown as KernelProfile;
  assert.match(refusal(() => checkDefinition('x', badValue)).message,
    /^profile "x": kernel\.daxMapPages: expected one of none, kani-2014, entry-pfn/);
});

test('an unknown profile is refused with the nearest profile names and the list of profiles', () => {
  const e = refusal(() => resolveProfile('linux-618'));
  assert.equal(e.knob, 'profile');
  assert.deepEqual(e.suggestion, ['linux-6.18']);
  assert.equal(e.message,
    `unknown kernel profile "linux-618" (did you mean "linux-6.18"?); known: ${Object.keys(profiles).join(', ')}`);
  assert.deepEqual(refusal(() => resolveProfile('Linux-6.1')).suggestion, ['linux-6.1']);
  assert.deepEqual(refusal(() => resolveProfile('rfc-kani')).suggestion, []);
});

test('names of Object.prototype are neither profiles nor knobs (own properties only)', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
    assert.match(refusal(() => resolveProfile(name)).message, new RegExp(`^unknown kernel profile "${name}"`));
    assert.equal(profiles[name], undefined, name);
    const knob = refusal(() => resolveProfile('linux-6.1', { [name]: 1 }));
    assert.equal(knob.knob, name);
    assert.match(knob.message, new RegExp(`^kernel\\.${name}: not a knob`));
  }
  // A JSON document can carry __proto__ as an own key; it is refused, not merged into the prototype.
  const overrides = JSON.parse('{"__proto__": {"daxPmd": false}}') as Record<string, unknown>;
  assert.match(refusal(() => resolveProfile('linux-6.1', overrides)).message, /^kernel\.__proto__: not a knob/);
});

test('a scenario with a bad knob value fails as a ScenarioError at kernel, naming the knob and its values', () => {
  const rest = 'machine: { memoryBytes: 1GiB }\nsteps: []\n';
  const s = parseScenario(`kernel: { profile: linux-6.1, daxMapPages: entry-pfnz }\n${rest}`, 'k.yaml');
  assert.throws(() => runScenario(s, { collectHostTime: false }), (e: unknown) => {
    assert.ok(e instanceof ScenarioError);
    assert.equal(e.where, 'kernel');
    assert.equal(e.detail,
      'kernel.daxMapPages: expected one of none, kani-2014, entry-pfn, got "entry-pfnz" (did you mean "entry-pfn"?)');
    return true;
  });
  const p = parseScenario(`kernel: { profile: linux-618 }\n${rest}`, 'k.yaml');
  assert.throws(() => runScenario(p, { collectHostTime: false }), (e: unknown) =>
    e instanceof ScenarioError && /unknown kernel profile "linux-618" \(did you mean "linux-6.18"\?\)/.test(e.message));
});

test('daxsim profiles NAME prints every knob with its value and meaning; a bad name is a usage error, exit 2', async () => {
  const { spawnSync } = await import('node:child_process');
  const ok = spawnSync(process.execPath, ['src/cli/main.ts', 'profiles', 'linux-6.18'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  for (const name of Object.keys(KNOBS)) assert.match(ok.stdout, new RegExp(`^\\s+${name}\\s`, 'm'), name);
  assert.match(ok.stdout, /^\s+mapWholeFolio\s+true\s/m);
  const bad = spawnSync(process.execPath, ['src/cli/main.ts', 'profiles', 'linux-618'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /did you mean "linux-6\.18"/);
  assert.doesNotMatch(bad.stderr, /internal error|at lookupProfile/);
});

test('a kernel key named __proto__ in a scenario is refused as a knob, not dropped', () => {
  const text = 'kernel: { profile: linux-6.18, __proto__: 1 }\nmachine: { memoryBytes: 1GiB }\nsteps: []\n';
  const s = parseScenario(text, 'proto.yaml');
  assert.throws(() => runScenario(s), (e: unknown) => e instanceof ScenarioError && /__proto__: not a knob/.test(e.message));
});
