// The scenario schema in zod (src/scenario/schema.ts), published as schema/scenario.schema.json
// for YAML editors (issue 13). Checked: the file is what the schema generates, every example
// (each starting with its yaml-language-server line) is valid under it, and a misspelt expect
// counter is refused before the scenario runs, with the nearest counter name.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { scenarioJsonSchema, scenarioSchema } from '../src/scenario/schema.ts';

test('schema/scenario.schema.json is the zod schema\'s JSON Schema (node scripts/gen-schema.ts)', () => {
  const file = JSON.parse(readFileSync('schema/scenario.schema.json', 'utf8')) as unknown;
  assert.deepEqual(file, JSON.parse(JSON.stringify(scenarioJsonSchema())));
});

test('every example scenario is valid under the schema and names it for yaml-language-server', () => {
  const files = ['examples', 'examples/crash'].flatMap((d) =>
    readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));
  assert.ok(files.length >= 15);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.match(text, /^# yaml-language-server: \$schema=(\.\.\/)+schema\/scenario\.schema\.json\n/, f);
    const r = scenarioSchema.safeParse(parse(text));
    assert.ok(r.success, `${f}: ${r.success ? "" : JSON.stringify(r.error.issues[0]?.path)}`);
  }
  const bad = scenarioSchema.safeParse({ machine: { memoryBytes: '1GiB' }, steps: [{ mmap: { fd: 'f', flgs: [] } }] });
  assert.equal(bad.success, false, 'an unknown step key is refused');
});

test('run refuses a misspelt expect counter before running, naming the step and the nearest counter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daxsim-schema-'));
  const f = join(dir, 'c.yaml');
  writeFileSync(f, `machine: { memoryBytes: 1GiB }
mounts: [ { fs: tmpfs, target: /t } ]
steps:
  - create: { path: /t/f, sizeBytes: 4KiB }
  - report: { name: r, expect: { vmstat: { pgfualt: 1 } } }
`);
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'run', f], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /steps\[1\] \(report\)\.expect\.vmstat\.pgfualt: not a vmstat counter \(did you mean "pgfault"\?\)/);
});
