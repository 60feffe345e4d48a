/**
 * The instructions and libpmem calls persistent-memory programs are written with (issue 15), on
 * a process's mapping of a DAX file, each one crash point for the explorer:
 *
 * - store8/16/32/64 (MOV): an aligned store of up to 8 bytes is failure-atomic: after a power
 *   failure the media holds all of its bytes or none (Intel SDM vol. 3A §8.1.1, "Guaranteed Atomic
 *   Operations"; PMDK relies on 8-byte failure atomicity, pmem_memcpy(3) NOTES). storeBytes (a wide
 *   or unaligned store, e.g. a 16-byte MOVDQU) and memcpy/memset tear at 8-byte boundaries: each
 *   aligned 8-byte piece is one unit, and the pieces within one cache line persist in program
 *   (ascending address) order, as the line is written back as a whole (simplification: the SDM
 *   gives no order between the pieces of one wide store).
 * - ntStore*, ntStoreBytes (MOVNTI/MOVNTDQ): bypass the cache through write-combining buffers,
 *   durable after the next SFENCE or MFENCE (SDM vol. 1 §10.4.6.2, vol. 3A §11.3.1).
 * - clflush: ordered with stores, durable when it completes; clflushopt and clwb: durable only
 *   after a later SFENCE/MFENCE (SDM vol. 2A CLFLUSHOPT, CLWB; "Intel Optimization for PM").
 * - sfence, mfence: every earlier CLWB/CLFLUSHOPT and non-temporal store is durable; lfence orders
 *   neither (SDM vol. 2A LFENCE: "does not order stores or cache-line flushes").
 * - libpmem (pmem_flush(3), PMDK 1.x src/libpmem2/x86_64): pmem_flush = CLWB of every line of the
 *   range (the CPU's best flush; `flushInsn` chooses), pmem_drain = SFENCE, pmem_persist = both;
 *   pmem_memcpy_persist / pmem_memset_persist = pmem_memcpy_nodrain + pmem_drain, where the nodrain
 *   copy of at least PMEM_MOVNT_THRESHOLD (256) bytes writes the cache-line-aligned body with
 *   non-temporal stores and the unaligned head and tail with stores + flush (memcpy_nt_*.h), and a
 *   shorter copy uses stores + flush.
 *
 * Crash points: one after each store instruction, after each memcpy/memset (every state in the
 * middle of a copy is also a state after it: lines keep prefixes of their stores, and a copy makes
 * nothing durable), after each pmem_flush or flush instruction, each fence, and each page fault.
 * Loads and stores go through the page tables (faults, SIGBUS) like Process.load/store.
 */
import type { Process } from '../api/machine.ts';
import type { PmemDevice } from '../hw/pmem.ts';

/** What the explorer learns of the operation at a crash point. */
export interface PmOp { name: string; addr: number; lengthBytes: number; p: Process }

/** The explorer's side of the seam: hides per-byte crash points inside one instruction. */
export interface PmHooks {
  quiet: boolean;
  op: PmOp | null;
}

/** A program error inside a PM operation (a signal, a bad argument): reported to the user, not a model bug. */
export class PmProgramError extends Error {}

/** libpmem's PMEM_MOVNT_THRESHOLD default (PMDK src/libpmem2/x86_64/init.c). */
export const MOVNT_THRESHOLD = 256;

const SIGNAMES: Record<number, string> = { 7: 'SIGBUS', 11: 'SIGSEGV' };

export class PmOps {
  readonly p: Process;
  /** pmem_flush's instruction (libpmem picks CLWB when the CPU has it, else CLFLUSHOPT, else CLFLUSH). */
  flushInsn: 'clwb' | 'clflushopt' | 'clflush' = 'clwb';
  private readonly hooks: PmHooks;
  private readonly pmems: readonly PmemDevice[];

  constructor(p: Process, hooks: PmHooks) {
    this.p = p;
    this.hooks = hooks;
    this.pmems = p.machine.k.pmems;
  }

  // ------------------------------------------------------------------ loads

  /** Little-endian load of `size` (1, 2, 4 or 8) bytes; 8-byte values above 2^53 lose precision (use load64). */
  load(addr: number, size: 1 | 2 | 4 | 8 = 8): number {
    checkSize(size);
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.loadByte(addr + i);
    return v;
  }

  load64(addr: number): bigint {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.loadByte(addr + i));
    return v;
  }

  loadBytes(addr: number, lengthBytes: number): Uint8Array {
    const out = new Uint8Array(lengthBytes);
    for (let i = 0; i < lengthBytes; i++) out[i] = this.loadByte(addr + i);
    return out;
  }

  // ------------------------------------------------------------------ stores

  store8(addr: number, v: number): void { this.store(addr, v, 1); }
  store16(addr: number, v: number): void { this.store(addr, v, 2); }
  store32(addr: number, v: number): void { this.store(addr, v, 4); }
  store64(addr: number, v: number | bigint): void { this.store(addr, v, 8); }

  /** MOV of `size` bytes (little-endian): failure-atomic when aligned, else torn at 8-byte boundaries. */
  store(addr: number, v: number | bigint, size: 1 | 2 | 4 | 8, nt = false): void {
    this.run(nt ? `ntstore${size * 8}` : `store${size * 8}`, addr, size, () => this.put(addr, le(v, size), nt));
  }

  ntStore32(addr: number, v: number): void { this.store(addr, v, 4, true); }
  ntStore64(addr: number, v: number | bigint): void { this.store(addr, v, 8, true); }

  /** One wide store (MOVDQU/VMOVDQU of bytes.length bytes): torn at 8-byte boundaries. */
  storeBytes(addr: number, bytes: Uint8Array): void {
    this.run(`store${bytes.length * 8}`, addr, bytes.length, () => this.put(addr, bytes, false));
  }

  /** Non-temporal wide store (MOVNTDQ): bypasses the cache, durable after the next SFENCE. */
  ntStoreBytes(addr: number, bytes: Uint8Array): void {
    this.run(`ntstore${bytes.length * 8}`, addr, bytes.length, () => this.put(addr, bytes, true));
  }

  /** memcpy into the mapping: ordinary stores in 8-byte pieces, ascending. */
  memcpy(addr: number, src: Uint8Array): void {
    this.run('memcpy', addr, src.length, () => this.put(addr, src, false));
  }

  memset(addr: number, c: number, lengthBytes: number): void {
    checkByte(c);
    this.run('memset', addr, lengthBytes, () => this.put(addr, new Uint8Array(lengthBytes).fill(c), false));
  }

  // ------------------------------------------------------------------ flushes and fences

  clflush(addr: number): void { this.flushLine('clflush', addr); }
  clflushopt(addr: number): void { this.flushLine('clflushopt', addr); }
  clwb(addr: number): void { this.flushLine('clwb', addr); }

  /** SFENCE: earlier CLWB/CLFLUSHOPT write-backs and non-temporal stores are durable. */
  sfence(): void { this.fence('sfence'); }
  /** MFENCE: as SFENCE for persistence (it also orders loads). */
  mfence(): void { this.fence('mfence'); }
  /** LFENCE: orders loads only; makes nothing durable. */
  lfence(): void { this.fence('lfence'); }

  fence(insn: 'sfence' | 'mfence' | 'lfence'): void {
    if (insn !== 'sfence' && insn !== 'mfence' && insn !== 'lfence') {
      throw new PmProgramError(`fence: unknown instruction "${String(insn)}" (sfence, mfence or lfence)`);
    }
    this.hooks.op = { name: insn, addr: -1, lengthBytes: 0, p: this.p };
    try { this.p.fence(insn); } finally { this.hooks.op = null; }
  }

  // ------------------------------------------------------------------ libpmem

  /** pmem_flush(addr, len): flush every line of the range, no drain. */
  pmem_flush(addr: number, lengthBytes: number): void {
    this.run('pmem_flush', addr, lengthBytes, () => this.flushRange(addr, lengthBytes, this.flushInsn));
  }

  /** pmem_drain(): SFENCE. */
  pmem_drain(): void { this.fence('sfence'); }

  /** pmem_persist(addr, len) = pmem_flush + pmem_drain. */
  pmem_persist(addr: number, lengthBytes: number): void {
    this.pmem_flush(addr, lengthBytes);
    this.pmem_drain();
  }

  /** pmem_memcpy_nodrain: non-temporal body for copies of MOVNT_THRESHOLD bytes or more, see the module comment. */
  pmem_memcpy_nodrain(addr: number, src: Uint8Array): void {
    this.run('pmem_memcpy', addr, src.length, () => this.copyNodrain(addr, src));
  }

  pmem_memcpy_persist(addr: number, src: Uint8Array): void {
    this.pmem_memcpy_nodrain(addr, src);
    this.pmem_drain();
  }

  pmem_memset_persist(addr: number, c: number, lengthBytes: number): void {
    checkByte(c);
    this.pmem_memcpy_persist(addr, new Uint8Array(lengthBytes).fill(c));
  }

  // ------------------------------------------------------------------ helpers

  private copyNodrain(addr: number, src: Uint8Array): void {
    const len = src.length;
    if (len < MOVNT_THRESHOLD) {
      this.put(addr, src, false);
      this.flushRange(addr, len, this.flushInsn);
      return;
    }
    const head = Math.min(len, (64 - (addr % 64)) % 64);
    const bodyEnd = head + Math.floor((len - head) / 64) * 64;
    if (head > 0) {
      this.put(addr, src.subarray(0, head), false);
      this.flushRange(addr, head, this.flushInsn);
    }
    this.put(addr + head, src.subarray(head, bodyEnd), true);
    if (bodyEnd < len) {
      this.put(addr + bodyEnd, src.subarray(bodyEnd), false);
      this.flushRange(addr + bodyEnd, len - bodyEnd, this.flushInsn);
    }
  }

  private flushLine(insn: 'clwb' | 'clflushopt' | 'clflush', addr: number): void {
    this.run(insn, addr, 1, () => this.flushRange(addr, 1, insn));
  }

  private flushRange(addr: number, lengthBytes: number, insn: 'clwb' | 'clflushopt' | 'clflush'): void {
    if (lengthBytes <= 0) return;
    const r = this.p.flush(addr, lengthBytes, insn);
    if (r < 0) this.signal(r, insn, addr);
  }

  /**
   * Run one operation as one crash point: the per-byte points of Process.store/flush are hidden
   * (faults stay crash points), and the point is raised once at the end with the operation named.
   */
  private run(name: string, addr: number, lengthBytes: number, body: () => void): void {
    checkAddr(addr, lengthBytes);
    const h = this.hooks;
    const outer = h.quiet;
    h.op = { name, addr, lengthBytes, p: this.p };
    h.quiet = true;
    try {
      body();
    } finally {
      h.quiet = outer;
    }
    try {
      const hook = this.p.machine.k.crashHook;
      if (!outer && hook !== null) hook(name);
    } finally {
      h.op = null;
    }
  }

  /** Bytes stored at addr in failure-atomic pieces that never cross an 8-byte boundary. */
  private put(addr: number, bytes: Uint8Array, nt: boolean): void {
    let i = 0;
    while (i < bytes.length) {
      const end = Math.min(bytes.length, i + 8 - ((addr + i) % 8));
      this.piece(addr + i, bytes, i, end, nt);
      i = end;
    }
  }

  private piece(addr: number, bytes: Uint8Array, from: number, to: number, nt: boolean): void {
    // One unit: the piece stays in one 8-byte word, so in one page; a fault on its first byte
    // (its own crash point) happens before any byte of it is stored.
    for (const d of this.pmems) { d.nonTemporal = nt; d.beginAtomic(); }
    try {
      for (let i = from; i < to; i++) {
        const r = this.p.store(addr + i - from, bytes[i]!);
        if (r < 0) this.signal(r, 'store', addr + i - from);
      }
    } finally {
      for (const d of this.pmems) { d.endAtomic(); d.nonTemporal = false; }
    }
  }

  private loadByte(addr: number): number {
    const r = this.p.load(addr);
    if (r < 0) this.signal(r, 'load', addr);
    return r;
  }

  private signal(r: number, what: string, addr: number): never {
    throw new PmProgramError(`${what} at 0x${addr.toString(16)} got ${SIGNAMES[-r] ?? `signal ${-r}`}`);
  }
}

function checkSize(size: number): void {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new PmProgramError(`store/load size ${size}: expected 1, 2, 4 or 8 bytes`);
  }
}

function checkByte(c: number): void {
  if (!Number.isInteger(c) || c < 0 || c > 255) throw new PmProgramError(`memset value ${c} is not a byte`);
}

function checkAddr(addr: number, lengthBytes: number): void {
  if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(lengthBytes) || lengthBytes < 0) {
    throw new PmProgramError(`bad address range 0x${Number(addr).toString(16)} + ${lengthBytes}`);
  }
}

/** The `size` little-endian bytes of v (a number below 2^53 or a bigint). */
function le(v: number | bigint, size: 1 | 2 | 4 | 8): Uint8Array {
  checkSize(size);
  let b = typeof v === 'bigint' ? v : BigInt(v);
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new PmProgramError(`store of ${v}: not an integer`);
  if (b < 0n) b += 1n << BigInt(size * 8);
  if (b < 0n || b >= 1n << BigInt(size * 8)) throw new PmProgramError(`store of ${v} does not fit ${size} bytes`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) { out[i] = Number(b & 0xffn); b >>= 8n; }
  return out;
}
