// The real-kernel runner's encoding of process steps (src/oracle/encode.ts, docs/kernel-runner.md):
// steps of a forked child carry its slot (`step I @P ...`) so runner.c runs them in that process;
// a process no fork made, a thread, or more processes than runner.c has slots for are refused
// with the reason, as every other step without a real equivalent is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../src/scenario/parse.ts';
import { encodeScenario, NotRunnableError } from '../src/oracle/encode.ts';

const HEAD = 'machine: { memoryBytes: 1GiB }\nmounts: [ { fs: tmpfs, target: /mnt } ]\nsteps:\n' +
  '  - mmap: { lengthBytes: 8KiB, prot: [PROT_READ], flags: [MAP_PRIVATE, MAP_ANONYMOUS], map: a }\n';
const enc = (steps: string, placements: Record<number, number> = { 0: 0x7f0000000000 }): string =>
  encodeScenario(parseScenario(HEAD + steps, 'p.yaml'), { dirs: { '/mnt': '/tmp/x' }, placements }).text;

test('a fork step names the child slot; the child\'s steps are tagged with it, main\'s are not', () => {
  const t = enc('  - fork: { child: c }\n  - load: { process: c, map: a, offsetBytes: 0 }\n' +
    '  - exit: { process: c, status: 4 }\n  - waitpid: { child: c }\n  - munlockall: {}\n');
  const lines = t.split('\n');
  assert.ok(lines.includes('proc 0 main') && lines.includes('proc 1 c'), t);
  assert.ok(lines.includes('step 1 fork 1'));
  assert.ok(lines.includes('step 2 @1 loadw 0 0 1'), t); // a 1-byte load (loadw MAP OFF SIZE)
  assert.ok(lines.includes('step 3 @1 exit 4'));
  assert.ok(lines.includes('step 4 waitpid 1'));
  assert.ok(lines.includes('step 5 munlockall'));
});

test('mremap carries the model\'s placement, mlock its flags', () => {
  const t = enc('  - mremap: { map: a, newLengthBytes: 16KiB, flags: [MREMAP_MAYMOVE] }\n' +
    '  - mlock: { map: a, flags: [MLOCK_ONFAULT] }\n  - mlockall: { flags: [MCL_CURRENT, MCL_FUTURE] }\n',
  { 0: 0x7f0000000000, 1: 0x7f0000100000 });
  assert.ok(t.includes(`step 1 mremap 0 0 8192 16384 1 0 ${0x7f0000100000 + 1}`), t);
  assert.ok(t.includes('step 2 mlock 0 0 16384 1'), 'the map follows the range after the mremap');
  assert.ok(t.includes('step 3 mlockall 3'));
});

test('steps of a process no fork made, or of a thread, make the scenario not runnable, with the reason', () => {
  assert.throws(() => enc('  - load: { process: other, map: a, offsetBytes: 0 }\n'), (e: unknown) => {
    assert.ok(e instanceof NotRunnableError);
    assert.ok(e.reasons.some((r) => r.includes('process other is not made by an earlier fork step')), e.reasons.join());
    return true;
  });
  assert.throws(() => enc('  - load: { thread: t2, map: a, offsetBytes: 0 }\n'), /no threads/);
});
