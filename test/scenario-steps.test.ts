// The two step tables (README: Architecture, step tables): the parser's STEP_READERS and the
// runner's STEP_HANDLERS are keyed by exactly the step kinds of types.ts, so a new step is one
// entry in each, and forgetting one fails here (and in tsc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { STEP_KINDS } from '../src/scenario/types.ts';
import { STEP_READERS, parseScenario } from '../src/scenario/parse.ts';
import { STEP_HANDLERS } from '../src/scenario/steps/index.ts';
import { FILE_STEPS } from '../src/scenario/steps/files.ts';
import { MAPPING_STEPS } from '../src/scenario/steps/mappings.ts';
import { ACCESS_STEPS } from '../src/scenario/steps/access.ts';
import { SYSTEM_STEPS } from '../src/scenario/steps/system.ts';
import { CONTROL_STEPS } from '../src/scenario/steps/control.ts';
import { PROC_STEPS } from '../src/scenario/steps/procs.ts';
import { DATA_STEPS } from '../src/scenario/steps/data.ts';

const kinds = [...STEP_KINDS].sort();
const GROUPS = { FILE_STEPS, MAPPING_STEPS, ACCESS_STEPS, DATA_STEPS, SYSTEM_STEPS, CONTROL_STEPS, PROC_STEPS };

test('STEP_KINDS lists each step kind once', () => {
  assert.equal(new Set(STEP_KINDS).size, STEP_KINDS.length);
  assert.ok(STEP_KINDS.length >= 34, `expected at least the 34 kinds of issue 10, got ${STEP_KINDS.length}`);
});

test('the parser has one step reader per step kind, and no other', () => {
  assert.deepEqual(Object.keys(STEP_READERS).sort(), kinds);
  for (const k of STEP_KINDS) assert.equal(typeof STEP_READERS[k].read, 'function', `reader of ${k}`);
});

test('the runner has one step handler per step kind, and no other', () => {
  assert.deepEqual(Object.keys(STEP_HANDLERS).sort(), kinds);
  for (const k of STEP_KINDS) assert.equal(typeof STEP_HANDLERS[k], 'function', `handler of ${k}`);
});

test('each step kind is handled in exactly one subject file (a spread would hide a second handler)', () => {
  const owners = new Map<string, string[]>();
  for (const [group, table] of Object.entries(GROUPS)) {
    for (const k of Object.keys(table)) owners.set(k, [...(owners.get(k) ?? []), group]);
  }
  const twice = [...owners].filter(([, g]) => g.length > 1).map(([k, g]) => `${k}: ${g.join(', ')}`);
  assert.deepEqual(twice, []);
  assert.deepEqual([...owners.keys()].sort(), kinds);
  for (const [group, table] of Object.entries(GROUPS)) {
    for (const [k, h] of Object.entries(table)) {
      assert.equal(STEP_HANDLERS[k as keyof typeof STEP_HANDLERS], h, `${group}.${k}`);
    }
  }
});

test('every step handler has a doc comment (the syscall it stands for) right above it', () => {
  const files = ['files', 'mappings', 'access', 'data', 'system', 'control', 'procs'];
  const undocumented: string[] = [];
  let seen = 0;
  for (const f of files) {
    const lines = readFileSync(`src/scenario/steps/${f}.ts`, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^ {2}([A-Za-z]+)\(/.exec(line);
      if (!m || !(STEP_KINDS as readonly string[]).includes(m[1]!)) return;
      seen++;
      if (!lines[i - 1]?.trimEnd().endsWith('*/')) undocumented.push(`${f}.ts:${i + 1} ${m[1]}`);
    });
  }
  assert.equal(seen, STEP_KINDS.length, 'found every handler in the subject files');
  assert.deepEqual(undocumented, []);
});

test('the parser names every step kind, in STEP_KINDS order, when a step has an unknown kind', () => {
  const text = 'machine: { memoryBytes: 1GiB }\nsteps:\n  - frobnicate: {}\n';
  assert.throws(() => parseScenario(text, 't.yaml'), (e: Error) => {
    assert.ok(e.message.includes(`unknown op "frobnicate" (ops: ${STEP_KINDS.join(', ')})`), e.message);
    return true;
  });
});
