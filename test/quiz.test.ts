/**
 * Issue 14: `daxsim quiz` (src/inspect/quiz.ts, src/cli/quiz.ts). The answers come from running
 * the model; here they are checked against the rules they teach: do_fault_around (mm/memory.c,
 * v6.18) maps the fault_around_bytes-aligned window of the faulting page, clipped to the VMA and
 * the file, so a read faults only when its window is not mapped yet; after a power failure in
 * which no dirty line was written back, a byte holds what msync wrote back (DAX msync:
 * dax_writeback_mapping_range, fs/dax.c) or else what the file held when it was created.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { makeQuiz, formatQuiz } from '../src/inspect/quiz.ts';
import { parseScenario } from '../src/scenario/parse.ts';

const cli = (...a: string[]) => spawnSync(process.execPath, ['src/cli/main.ts', 'quiz', ...a], { encoding: 'utf8' });

/** The reads, window and file size the fault-around question states, from its scenario. */
function faultAround(yaml: string): { reads: number[]; win: number; pages: number } {
  const s = parseScenario(yaml, 'test');
  const win = Number(/faultAroundBytes: (\d+)/.exec(yaml)![1]) / 4096;
  const pages = (s.steps.find((x) => x.op === 'create')!.args as { sizeBytes: number }).sizeBytes / 4096;
  const reads = s.steps.filter((x) => x.op === 'access')
    .map((x) => (x.args as { span: { offsetBytes: number } }).span.offsetBytes / 4096);
  return { reads, win, pages };
}

test('quiz: the same seed gives the same quiz; seeds differ; the scenarios parse', () => {
  assert.deepEqual(formatQuiz(makeQuiz(7), true), formatQuiz(makeQuiz(7), true));
  const texts = new Set([1, 2, 3, 4, 5].map((s) => makeQuiz(s).scenarios.map((x) => x.yaml).join('')));
  assert.ok(texts.size >= 4, 'five seeds give at least four different quizzes');
  for (const sc of makeQuiz(7).scenarios) assert.doesNotThrow(() => parseScenario(sc.yaml, sc.name));
});

test('quiz: fault counts and present pages follow the aligned fault-around window (do_fault_around)', () => {
  for (let seed = 0; seed < 6; seed++) {
    const q = makeQuiz(seed);
    const { reads, win, pages } = faultAround(q.scenarios[0]!.yaml);
    const windows = new Set(reads.map((p) => Math.floor(p / win)));
    assert.equal(q.questions[0]!.answer, String(windows.size), `seed ${seed}`);
    const mapped: number[] = [];
    for (const w of [...windows].sort((a, b) => a - b)) {
      for (let p = w * win; p < Math.min(pages, (w + 1) * win); p++) mapped.push(p);
    }
    const listed = q.questions[1]!.answer.split(', ').flatMap((r) => {
      const [a, b] = r.split('-').map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    });
    assert.deepEqual(listed, mapped, `seed ${seed}`);
  }
});

test('quiz: after the crash a byte holds what msync wrote back, else what the file held at creation', () => {
  const seen = new Set<string>();
  for (let seed = 0; seed < 12; seed++) {
    const q = makeQuiz(seed);
    const yaml = q.scenarios[1]!.yaml;
    const ask = q.questions[2]!;
    const [, off, initial, stored] = /byte (\d+) .* held (\d+) when .* stored (\d+) there/.exec(ask.question)!.map(Number);
    const lines = yaml.split('\n');
    const sync = lines.findIndex((l) => l.includes('msync'));
    const at = lines.findIndex((l) => l.includes(`offsetBytes: ${off}, byte: ${stored}`));
    const durable = sync >= 0 && at < sync;
    assert.equal(ask.answer, String(durable ? stored : initial), `seed ${seed}`);
    seen.add(sync < 0 ? 'no msync' : durable ? 'before msync' : 'after msync');
  }
  assert.equal(seen.size, 3, 'the seeds cover no msync, a store before it and one after it');
});

test('quiz from the CLI: answers hidden until --answers; --json; a bad seed is a usage error (exit 2)', () => {
  const r = cli('--seed', '4');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^daxsim quiz, seed 4\n/);
  assert.match(r.stdout, /answers: daxsim quiz --seed 4 --answers\n$/);
  const q = makeQuiz(4);
  assert.ok(!r.stdout.includes(q.questions[2]!.why));
  const a = cli('--seed', '4', '--answers');
  for (const x of q.questions) assert.ok(a.stdout.includes(`${x.answer}  (${x.why})`));
  const j = JSON.parse(cli('--seed', '4', '--json').stdout) as { questions: object[] };
  assert.ok(j.questions.every((x) => !('answer' in x)));
  const bad = cli('--seed=-1');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--seed: expected a non-negative integer, got "-1"/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});
