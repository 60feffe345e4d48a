// The house style of issue 10 and STYLE.md, checked on the source text of src/: no line over 120
// characters, and no function body over 70 lines (a function that long is split where a name can
// say what the part does). The function check counts braces from a line that opens a function or
// method declaration to the line that closes it; it sees through strings and comments well enough
// for this code base (its self-test below shows it finds a long function and passes a short one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}

const FN_START = new RegExp('^\\s*(export\\s+)?(async\\s+)?(function\\s*\\*?\\s*\\w+\\s*(<.*>)?|' +
  '(private\\s+|static\\s+|public\\s+|protected\\s+)*(get\\s+|set\\s+)?\\w+\\s*(<.*>)?)\\s*\\(.*\\)\\s*(:\\s*[^={]+)?\\{\\s*$');
const NOT_FN = /^\s*(if|for|while|switch|catch|return|else|do|try)\b/;

/** Functions longer than `max` lines in `text`, as "line: first line of the declaration". */
export function longFunctions(text: string, max: number): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (!FN_START.test(l) || NOT_FN.test(l)) continue;
    let depth = 0;
    let j = i;
    for (; j < lines.length; j++) {
      const code = lines[j]!.replace(/'(\\.|[^'\\])*'|"(\\.|[^"\\])*"|`(\\.|[^`\\])*`|\/\/.*$/g, '');
      depth += (code.match(/\{/g) ?? []).length - (code.match(/\}/g) ?? []).length;
      if (depth <= 0) break;
    }
    if (j - i + 1 > max) out.push(`${i + 1}: ${l.trim().slice(0, 80)} (${j - i + 1} lines)`);
  }
  return out;
}

test('no line in src/ is over 120 characters (issue 10, STYLE.md)', () => {
  const long: string[] = [];
  for (const f of sources('src')) {
    readFileSync(f, 'utf8').split('\n').forEach((l, i) => { if (l.length > 120) long.push(`${f}:${i + 1} (${l.length})`); });
  }
  assert.deepEqual(long, []);
});

test('no function in src/ is over 70 lines (issue 10, STYLE.md)', () => {
  const long: string[] = [];
  for (const f of sources('src')) for (const x of longFunctions(readFileSync(f, 'utf8'), 70)) long.push(`${f}:${x}`);
  assert.deepEqual(long, []);
});

test('the function-length check finds a long function and passes a short one (self-test)', () => {
  const body = (n: number) => `export function f(a: number): number {\n${'  a++;\n'.repeat(n)}  return a;\n}\n`;
  assert.deepEqual(longFunctions(body(10), 70), []);
  assert.equal(longFunctions(body(80), 70).length, 1);
});
