// The progress line on stderr (src/lib/progress.ts; issue 13: "a progress line on stderr for
// steps that run longer than a second"): shown for long work only, rewritten in place on a
// terminal, plain lines at most every few seconds elsewhere, never on stdout. Every clock here is
// a fake one the test advances: no pass or fail depends on how fast this machine is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ProgressLine, type ProgressOut } from '../src/lib/progress.ts';
import { parseScenario } from '../src/scenario/parse.ts';
import { runScenario } from '../src/scenario/run.ts';

function recorder(isTTY: boolean): ProgressOut & { text: string[] } {
  const text: string[] = [];
  return { isTTY, text, write: (s) => { text.push(s); } };
}

test('work shorter than a second prints nothing; a long one prints a line and a done line', () => {
  let now = 0;
  const out = recorder(false);
  const p = new ProgressLine(out, () => now, { checkEvery: 1 });
  p.begin('step 1 access', 100, 'pages');
  for (let i = 1; i <= 100; i++) { now += 5; p.tick(i); } // 0.5 s in all
  p.end();
  assert.deepEqual(out.text, []);
  p.begin('step 2 access', 1000, 'pages');
  for (let i = 1; i <= 1000; i++) { now += 5; p.tick(i); } // 5 s
  p.end();
  assert.ok(out.text.length >= 2, out.text.join(''));
  assert.match(out.text[0]!, /^\[daxsim\] step 2 access: 1\.0 s, 200\/1000 pages\n$/);
  assert.match(out.text.at(-1)!, /^\[daxsim\] step 2 access done: 5\.0 s, 1000\/1000 pages\n$/);
});

test('without a terminal: plain lines, at most one per plainEveryMs', () => {
  let now = 0;
  const out = recorder(false);
  const p = new ProgressLine(out, () => now, { checkEvery: 1, plainEveryMs: 5000 });
  p.begin('step 3 access', 0, 'pages');
  for (let i = 1; i <= 30000; i++) { now += 1; p.tick(i); } // 30 s, a tick per millisecond
  p.end();
  const lines = out.text.filter((t) => !t.includes(' done:'));
  // first at 1 s, then every 5 s: 1, 6, 11, 16, 21, 26
  assert.equal(lines.length, 6, out.text.join(''));
  assert.ok(out.text.every((t) => !t.includes('\r') && t.endsWith('\n')));
});

test('on a terminal: one line rewritten in place (CR, erase to end of line), a newline at the end', () => {
  let now = 0;
  const out = recorder(true);
  const p = new ProgressLine(out, () => now, { checkEvery: 1, ttyEveryMs: 100 });
  p.begin('crash: prog', 0, 'states');
  for (let i = 1; i <= 3000; i++) { now += 1; p.tick(i); }
  p.end();
  assert.ok(out.text.length > 10);
  for (const t of out.text.slice(0, -1)) assert.match(t, /^\r\[daxsim\] crash: prog: \d+\.\d s, \d+ states\x1b\[K$/);
  assert.match(out.text.at(-1)!, /^\r\[daxsim\] crash: prog done: 3\.0 s, 3000 states\x1b\[K\n$/);
});

test('a scenario run: the long access step gets a progress line, the short steps none', () => {
  const s = parseScenario(`
name: progress
machine: { memoryBytes: 256MiB }
mounts: [ { fs: tmpfs, target: /t } ]
steps:
  - create: { path: /t/f, sizeBytes: 4MiB, content: written, writeChunkBytes: 4MiB }
  - open: { path: /t/f, flags: [O_RDONLY], fd: f }
  - mmap: { fd: f, lengthBytes: 4MiB, prot: [PROT_READ], flags: [MAP_SHARED], map: m }
  - access: { map: m, op: read, lengthBytes: 4MiB, strideBytes: 4KiB }
`, 'progress.yaml');
  // The fake clock advances only when read: the access step reads it once per page (checkEvery
  // 1), 1024 pages at 2 ms; the others (create in one write) a few times: a few ms.
  let now = 0;
  const out = recorder(false);
  const p = new ProgressLine(out, () => (now += 2), { checkEvery: 1 });
  runScenario(s, { collectHostTime: false, progress: p });
  const text = out.text.join('');
  assert.match(text, /step 3 access: /);
  assert.match(text, /step 3 access done: \d+\.\d s, 1024\/1024 pages/);
  assert.doesNotMatch(text, /step [012] /);
});

test('daxsim run --json: stdout is the JSON document alone (progress goes to stderr only)', () => {
  const root = join(import.meta.dirname, '..');
  const args = [join(root, 'src/cli/main.ts'), 'run', join(root, 'examples/tmpfs-seq-read.yaml'), '--json'];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\[daxsim\]/);
  assert.equal(typeof JSON.parse(r.stdout), 'object');
});

test('a multi-variant run on worker threads counts the variants finished on its progress line', async () => {
  const { parseRunArgs } = await import('../src/cli/run.ts');
  const { runPool } = await import('../src/cli/run-pool.ts');
  const a = parseRunArgs([join(import.meta.dirname, '..', 'examples', 'tmpfs-seq-read.yaml'),
    '--profile', 'linux-6.1,linux-6.18']);
  let now = 0;
  const out = recorder(false);
  // Every clock read is 2 s later: the pool has "run long", so its done line must appear.
  const p = new ProgressLine(out, () => (now += 2000), { checkEvery: 1 });
  const outcomes = await runPool(a.reqs, 2, p);
  assert.equal(outcomes.length, 2);
  assert.match(out.text.at(-1)!, /^\[daxsim\] 2 variants on 2 worker threads done: [\d.]+ s, 2\/2 variants\n$/);
});
