/**
 * Every scenario under examples/ runs with zero failed expectations: each file states, in its
 * `expect` blocks, the kernel figures it reproduces (see the comment at the top of each file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { loadScenarioFile } from '../src/scenario/load.ts';
import { runScenario } from '../src/scenario/run.ts';

const dir = new URL('../examples/', import.meta.url);
for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort()) {
  test(`examples/${f} runs and meets its expectations`, () => {
    const r = runScenario(loadScenarioFile(new URL(f, dir).pathname), { collectHostTime: false });
    assert.deepEqual(r.failures, []);
  });
}
