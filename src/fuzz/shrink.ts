// Shrinking a failing fuzzer program to a small reproducer (issue 17): delta debugging over the
// call list (remove halves, quarters, ... then single calls) while the same class of finding
// (signature) still occurs, then simplify each argument toward 0 or one page. Deterministic.

import type { Call, FuzzProgram } from './program.ts';
import { runProgram, signature, type RunResult } from './run.ts';

/** Shrink `prog`'s calls keeping `sig`; `budget` bounds the number of runs. */
export function shrink(prog: FuzzProgram, sig: string, budget = 400): { calls: Call[]; result: RunResult } {
  let calls = prog.calls.slice();
  let runs = 0;
  const fails = (cs: Call[]): boolean => {
    runs++;
    const r = runProgram(prog, cs);
    return r.finding !== null && signature(r.finding) === sig;
  };
  // Calls after the failing one never matter.
  const first = runProgram(prog, calls);
  if (first.finding && first.finding.call >= 0) calls = calls.slice(0, first.finding.call + 1);
  for (let chunk = Math.ceil(calls.length / 2); chunk >= 1 && runs < budget; chunk = Math.floor(chunk / 2)) {
    for (let s = 0; s < calls.length && runs < budget;) {
      const cand = calls.slice(0, s).concat(calls.slice(s + chunk));
      if (cand.length > 0 && fails(cand)) calls = cand; else s += chunk;
    }
  }
  for (let i = 0; i < calls.length && runs < budget; i++) {
    for (let j = 0; j < calls[i]!.a.length && runs < budget; j++) {
      for (const simpler of [0, 4096, 1]) {
        const old = calls[i]!.a[j]!;
        if (old === simpler) break;
        const cand = calls.map((c, k) => k === i ? { op: c.op, a: c.a.map((x, m) => m === j ? simpler : x) } : c);
        if (fails(cand)) { calls = cand; break; }
      }
    }
  }
  return { calls, result: runProgram(prog, calls) };
}
