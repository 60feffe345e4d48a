// Step handlers for data through mappings: loads and stores of 1, 2, 4 or 8 bytes (one mov,
// which may straddle two pages), memset and memcpy as forward loops of them, and mincore(2).

import type { Process } from '../../api/machine.ts';
import type { StepOf } from '../types.ts';
import { PAGE_BYTES, signalAt } from './context.ts';
import type { MapRecord, StepHandlers, StepOutcome, StepRunner } from './context.ts';

type DataStep = 'load' | 'store' | 'memset' | 'memcpy' | 'mincore';

/**
 * The pages one mov of `size` bytes at `addr` needs, faulted in address order as the CPU
 * does: an access that crosses a page boundary raises its page fault on the first page it cannot
 * use, the handler maps it, the instruction restarts and faults on the next (x86: no byte of a
 * store is committed until every page of it is writable). 0, or -signo with the signal recorded.
 */
function probeAll(p: Process, addr: number, size: number, write: boolean): number {
  const last = addr + size - 1;
  for (let page = Math.floor(addr / PAGE_BYTES); page <= Math.floor(last / PAGE_BYTES); page++) {
    const r = p.probe(Math.max(addr, page * PAGE_BYTES), write);
    if (r < 0) return r;
  }
  return 0;
}

function signalled(p: Process, res: number, addr: number, m: MapRecord): StepOutcome {
  return { result: res, signal: signalAt(res, p.lastSignal?.addr ?? addr, m) };
}

/** Little-endian value of a load's bytes as its result (1, 2, 4 bytes); 8-byte loads give 8 (the value is in data). */
function loadResult(bytes: Uint8Array): number {
  if (bytes.length === 8) return 8;
  let v = 0;
  for (let i = bytes.length - 1; i >= 0; i--) v = v * 256 + bytes[i]!;
  return v;
}

/** A forward loop over [addr, addr + len): `unit(a, n)` for each piece that stays inside one page. */
function perPage(addr: number, len: number, unit: (a: number, n: number) => number): number {
  for (let a = addr; a < addr + len;) {
    const n = Math.min(PAGE_BYTES - (a % PAGE_BYTES), addr + len - a);
    const r = unit(a, n);
    if (r < 0) return r;
    a += n;
  }
  return 0;
}

function memcpyStep(r: StepRunner, step: StepOf<'memcpy'>, p: Process, pn: string): StepOutcome {
  const a = step.args;
  const dst = r.map(step, a.map, pn), src = r.map(step, a.fromMap, pn);
  const d0 = dst.addr + a.offsetBytes, s0 = src.addr + a.fromOffsetBytes;
  // Pieces bounded by both the source's and the destination's page edges: load a piece, store it.
  for (let done = 0; done < a.lengthBytes;) {
    const sa = s0 + done, da = d0 + done;
    const n = Math.min(PAGE_BYTES - (sa % PAGE_BYTES), PAGE_BYTES - (da % PAGE_BYTES), a.lengthBytes - done);
    for (let i = 0; i < n; i++) {
      const v = p.load(sa + i);
      if (v < 0) return signalled(p, v, sa + i, src);
      const w = p.store(da + i, v);
      if (w < 0) return signalled(p, w, da + i, dst);
    }
    done += n;
  }
  return { result: a.lengthBytes };
}

export const DATA_STEPS: Pick<StepHandlers, DataStep> = {
  /** One mov of sizeBytes from the mapping; the result is the little-endian value (8 bytes: 8), data the bytes. */
  load(r, step, p, pn) {
    const m = r.map(step, step.args.map, pn);
    const addr = m.addr + step.args.offsetBytes;
    const size = step.args.sizeBytes;
    const pr = probeAll(p, addr, size, false);
    if (pr < 0) return signalled(p, pr, addr, m);
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const v = p.load(addr + i);
      if (v < 0) return signalled(p, v, addr + i, m);
      bytes[i] = v;
    }
    return { result: loadResult(bytes), data: bytes };
  },
  /** One mov of the step's bytes to the mapping (every page made writable first); 0 or -signo. */
  store(r, step, p, pn) {
    const m = r.map(step, step.args.map, pn);
    const addr = m.addr + step.args.offsetBytes;
    const bytes = step.args.bytes;
    const pr = probeAll(p, addr, bytes.length, true);
    if (pr < 0) return signalled(p, pr, addr, m);
    for (let i = 0; i < bytes.length; i++) {
      const w = p.store(addr + i, bytes[i]!);
      if (w < 0) return signalled(p, w, addr + i, m);
    }
    return { result: 0 };
  },
  /** memset(3) as a forward store loop; the result is the length, or -signo at the first page that fails. */
  memset(r, step, p, pn) {
    const [addr, len] = r.range(step, step.args, pn);
    const m = r.map(step, step.args.map, pn);
    const res = perPage(addr, len, (a, n) => {
      for (let i = 0; i < n; i++) { const w = p.store(a + i, step.args.byte); if (w < 0) return w; }
      return 0;
    });
    return res < 0 ? signalled(p, res, addr, m) : { result: len };
  },
  /** memcpy(3) as a forward loop: each byte loaded from the source, then stored; the result is the length or -signo. */
  memcpy(r, step, p, pn) {
    return memcpyStep(r, step, p, pn);
  },
  /** mincore(2): the result is the number of resident pages (or -errno); data is the vector (one byte per page). */
  mincore(r, step, p, pn) {
    const [addr, len] = r.range(step, step.args, pn);
    const vec = new Uint8Array(Math.ceil(len / PAGE_BYTES));
    const res = p.mincore(addr, len, vec);
    if (res < 0) return { result: res };
    let n = 0;
    for (const b of vec) n += b & 1;
    return { result: n, data: vec };
  },
};
