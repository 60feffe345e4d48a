// The model core runs in the browser (daxsim view): no module reachable at run time from the
// view's entry (src/view/main.ts) imports a Node built-in (node:fs, node:path, ...), nor anything
// from src/cli or src/oracle. Type-only imports are erased and do not count.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builtins = new Set(builtinModules);

/** Runtime import specifiers of a module (import/export ... from, bare import, dynamic import). */
function runtimeImports(src: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?([^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
  for (const m of src.matchAll(re)) if (!m[2]) out.push(m[4]!);
  for (const m of src.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Every module reachable from `entry`, with the Node built-ins and Node-only folders it imports. */
function walk(entry: string): { files: string[]; bad: string[] } {
  const seen = new Set<string>(), bad: string[] = [], todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const rel = relative(root, f);
    if (/^src\/(cli|oracle)\//.test(rel)) bad.push(`${rel} is Node-only`);
    for (const spec of runtimeImports(readFileSync(f, 'utf8'))) {
      if (spec.startsWith('node:') || builtins.has(spec)) bad.push(`${rel} imports ${spec}`);
      else if (spec.startsWith('.')) todo.push(join(dirname(f), spec));
    }
  }
  return { files: [...seen], bad };
}

test('nothing reachable from the browser view entry imports a Node built-in', () => {
  const { files, bad } = walk(join(root, 'src/view/main.ts'));
  assert.deepEqual(bad, []);
  // The walk really reaches the model: the runner, the fault path and the DAX code are in it.
  for (const f of ['src/scenario/run.ts', 'src/mm/fault.ts', 'src/dax/fault.ts', 'src/inspect/stepper.ts',
    'src/crash/explore.ts', 'src/inspect/crash.ts', 'src/inspect/quiz.ts']) {
    assert.ok(files.includes(join(root, f)), `${f} is reachable from the view`);
  }
});

test('the import scanner sees the Node imports it must refuse', () => {
  assert.deepEqual(runtimeImports("import { readFileSync } from 'node:fs';\nimport type { X } from 'node:os';\n" +
    "export { y } from './y.ts';\nconst v = await import('vite');"), ['node:fs', './y.ts', 'vite']);
  const { bad } = walk(join(root, 'src/scenario/load.ts'));
  assert.ok(bad.includes('src/scenario/load.ts imports node:fs'));
});
