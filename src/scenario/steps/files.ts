// Step handlers for files: the syscalls on paths and descriptors, and `create`/`copy`, which
// are short programs made of them.

import { ScenarioError } from '../types.ts';
import type { CopyArgs, ReadArgs, Step, StepOf } from '../types.ts';
import type { ReadTarget, WriteSource } from '../../fs/syscalls.ts';
import type { UserBuffer } from '../../mm/uaccess.ts';
import { DATA_CAPTURE_MAX, fillStream } from '../../lib/data.ts';
import type { Process } from '../../api/machine.ts';
import { O_CREAT, O_RDONLY, O_RDWR, O_TRUNC } from '../../mm/constants.ts';
import { errnoName } from '../../lib/errno.ts';
import { flagsToNumber } from '../flags.ts';
import { DEFAULT_WRITE_BYTE, PAGE_BYTES } from './context.ts';
import type { StepHandlers, StepOutcome, StepRunner } from './context.ts';

type FileStep =
  | 'create' | 'open' | 'close' | 'read' | 'write' | 'pread' | 'pwrite' | 'ftruncate' | 'fallocate'
  | 'fsync' | 'fdatasync' | 'unlink' | 'mkdir' | 'stat' | 'copy';

/** The byte a `create: { content: written }` step fills file page `pageIndex` with. */
export function createPageByte(pageIndex: number): number {
  return ((pageIndex * 7 + 1) & 0xff) || 1;
}

/** Writes [0, sizeBytes) of fd in chunks, each page filled with createPageByte(page index). */
function writeContent(r: StepRunner, p: Process, fd: number, sizeBytes: number, chunkBytes: number): number {
  const prog = r.progress;
  if (prog !== null) prog.size(Math.ceil(sizeBytes / chunkBytes), 'writes');
  for (let off = 0; off < sizeBytes; off += chunkBytes) {
    const len = Math.min(chunkBytes, sizeBytes - off);
    let n: number;
    if (off % PAGE_BYTES === 0 && len <= PAGE_BYTES) {
      n = p.pwrite(fd, len, off, createPageByte(off / PAGE_BYTES));
    } else {
      const buf = r.scratch(len);
      let i = 0;
      while (i < len) {
        const page = Math.floor((off + i) / PAGE_BYTES);
        const end = Math.min(len, (page + 1) * PAGE_BYTES - off);
        buf.fill(createPageByte(page), i, end);
        i = end;
      }
      n = p.pwrite(fd, len, off, buf);
    }
    if (n < 0) return n;
    if (n !== len) throw new Error(`create: short write of ${n} bytes at offset ${off} (asked ${len})`);
    if (prog !== null) prog.tick(Math.ceil((off + len) / chunkBytes));
  }
  return 0;
}

/** read/write/pread/pwrite in chunks; returns bytes moved or the first -errno. */
function transfer(lengthBytes: number, chunkBytes: number | undefined, call: (offset: number, len: number) => number,
): number {
  const chunk = chunkBytes ?? Math.max(lengthBytes, 1);
  let done = 0;
  while (done < lengthBytes) {
    const len = Math.min(chunk, lengthBytes - done);
    const n = call(done, len);
    if (n < 0) return done > 0 ? done : n;
    done += n;
    if (n < len) break;
  }
  return done;
}

/** The user buffer of a read/write step inside a mapping, `len` bytes from `at` into the step's buffer range. */
function mappingBuffer(r: StepRunner, step: Step, a: ReadArgs, p: Process, pn: string, at: number,
  len: number): UserBuffer | null {
  if (a.buffer === undefined) return null;
  const m = r.map(step, a.buffer.map, pn);
  return p.userBuffer(m.addr + a.buffer.offsetBytes + at, len);
}

/**
 * A read or pread step: chunk by chunk into the step's buffer (a mapping's range: the kernel's
 * copy_to_user faults on it), keeping the bytes read when the step reads at most DATA_CAPTURE_MAX.
 */
function readInto(r: StepRunner, step: StepOf<'read'> | StepOf<'pread'>, p: Process, pn: string,
  call: (len: number, out: ReadTarget, offset: number) => number): StepOutcome {
  const a = step.args;
  const keep = a.buffer === undefined && a.lengthBytes <= DATA_CAPTURE_MAX ? new Uint8Array(a.lengthBytes) : null;
  const n = transfer(a.lengthBytes, a.chunkBytes, (o, len) => {
    const ub = mappingBuffer(r, step, a, p, pn, o, len);
    return call(len, ub ?? (keep === null ? null : keep.subarray(o, o + len)), o);
  });
  return keep === null || n < 0 ? { result: n } : { result: n, data: keep.subarray(0, n) };
}

/** A write or pwrite step's chunks: the fill byte, bytes of the data stream, or the mapping range. */
function writeFrom(r: StepRunner, step: StepOf<'write'> | StepOf<'pwrite'>, p: Process, pn: string,
  call: (len: number, src: WriteSource, offset: number) => number): number {
  const a = step.args;
  const byte = a.byte ?? DEFAULT_WRITE_BYTE;
  return transfer(a.lengthBytes, a.chunkBytes, (o, len) => {
    const ub = mappingBuffer(r, step, a, p, pn, o, len);
    const src = ub ?? (a.data === undefined ? byte : fillStream(a.data, o, r.scratch(len)));
    return call(len, src, o);
  });
}

/** cp from -> to in chunks; one chunk per call; returns false at the end of the source. */
function copier(r: StepRunner, p: Process, a: CopyArgs, loop: boolean): () => boolean {
  const src = p.open(a.from, O_RDONLY);
  if (src < 0) throw new ScenarioError('copy.from', `cannot open ${a.from}: ${errnoName(-src)}`, r.source);
  let dst = p.open(a.to, O_RDWR | O_CREAT | O_TRUNC);
  if (dst < 0) throw new ScenarioError('copy.to', `cannot open ${a.to}: ${errnoName(-dst)}`, r.source);
  const buf = new Uint8Array(a.chunkBytes);
  let off = 0;
  return () => {
    const n = p.pread(src, a.chunkBytes, off, buf);
    if (n > 0) p.pwrite(dst, n, off, n === buf.length ? buf : buf.subarray(0, n));
    off += Math.max(n, 0);
    if (n < a.chunkBytes) {
      if (!loop) { p.close(src); p.close(dst); return false; }
      off = 0;
      p.close(dst);
      dst = p.open(a.to, O_RDWR | O_CREAT | O_TRUNC);
    }
    return true;
  };
}

export const FILE_STEPS: Pick<StepHandlers, FileStep> = {
  /** open(O_CREAT|O_RDWR|O_TRUNC), then pwrite(2)s of the content (or ftruncate(2) when sparse), fsync(2), close(2). */
  create(r, step, p) {
    const a = step.args;
    const fd = p.open(a.path, O_CREAT | O_RDWR | O_TRUNC);
    if (fd < 0) return { result: fd };
    r.paths.add(a.path);
    let res = a.content === 'written'
      ? writeContent(r, p, fd, a.sizeBytes, a.writeChunkBytes)
      : p.ftruncate(fd, a.sizeBytes);
    if (res >= 0 && a.fsync) res = p.fsync(fd);
    const c = p.close(fd);
    return { result: res < 0 ? res : c };
  },
  /** open(2); the descriptor is known by the step's `fd` name from now on. */
  open(r, step, p, pn) {
    const fd = p.open(step.args.path, flagsToNumber(step.args.flags));
    if (fd >= 0) {
      r.fds.set(step.args.fd, { processName: pn, fd, path: step.args.path });
      if (p.kp.fds[fd]?.inode.isDir !== true) r.paths.add(step.args.path); // reports list regular files
    }
    return { result: fd };
  },
  /** close(2); the name is forgotten when it succeeds. */
  close(r, step, p, pn) {
    const res = p.close(r.fd(step, step.args.fd, pn));
    if (res >= 0) r.fds.delete(step.args.fd);
    return { result: res };
  },
  /** read(2) at the file position, in chunks of chunkBytes (into the runner's buffer, or a mapping's range). */
  read(r, step, p, pn) {
    const fd = r.fd(step, step.args.fd, pn);
    const at = step.args.bufferOffsetBytes;
    return readInto(r, step, p, pn, (len, out) => p.read(fd, len, out, at));
  },
  /** pread(2) from offsetBytes, in chunks. */
  pread(r, step, p, pn) {
    const fd = r.fd(step, step.args.fd, pn);
    const { offsetBytes: off, bufferOffsetBytes: at } = step.args;
    return readInto(r, step, p, pn, (len, out, o) => p.pread(fd, len, off + o, out, at));
  },
  /** write(2) at the file position, in chunks: every byte `byte`, the `data` stream, or a mapping's range. */
  write(r, step, p, pn) {
    const fd = r.fd(step, step.args.fd, pn);
    const at = step.args.bufferOffsetBytes;
    return { result: writeFrom(r, step, p, pn, (len, src) => p.write(fd, len, src, at)) };
  },
  /** pwrite(2) from offsetBytes, in chunks, as write. */
  pwrite(r, step, p, pn) {
    const fd = r.fd(step, step.args.fd, pn);
    const { offsetBytes: off, bufferOffsetBytes: at } = step.args;
    return { result: writeFrom(r, step, p, pn, (len, src, o) => p.pwrite(fd, len, off + o, src, at)) };
  },
  /** ftruncate(2). */
  ftruncate(r, step, p, pn) {
    return { result: p.ftruncate(r.fd(step, step.args.fd, pn), step.args.sizeBytes) };
  },
  /** fallocate(2) with the step's mode flags. */
  fallocate(r, step, p, pn) {
    const a = step.args;
    return { result: p.fallocate(r.fd(step, a.fd, pn), flagsToNumber(a.mode), a.offsetBytes, a.lengthBytes) };
  },
  /** fsync(2). */
  fsync(r, step, p, pn) {
    return { result: p.fsync(r.fd(step, step.args.fd, pn)) };
  },
  /** fdatasync(2). */
  fdatasync(r, step, p, pn) {
    return { result: p.fdatasync(r.fd(step, step.args.fd, pn)) };
  },
  /** unlink(2). */
  unlink(_r, step, p) {
    return { result: p.unlink(step.args.path) };
  },
  /** mkdir(2): a directory inode (open gives it O_RDONLY; mmap of it ENODEV). */
  mkdir(_r, step, p) {
    return { result: p.mkdir(step.args.path) };
  },
  /** stat(2): the result is a copy of the stat figures, or -errno. */
  stat(_r, step, p) {
    const res = p.stat(step.args.path);
    return { result: typeof res === 'number' ? res : { ...res } };
  },
  /**
   * cp(1): open(2) both files, then pread(2)/pwrite(2) chunk by chunk to the end of the source;
   * with background: true it starts on the step's thread and loops until a `stop` step.
   */
  copy(r, step, p) {
    const a = step.args;
    if (!a.background) {
      const chunk = copier(r, p, a, false);
      while (chunk()) { /* copy to the end */ }
      return { result: 0 };
    }
    const thread = step.thread;
    if (thread === undefined) {
      return r.fail(step, 'a background copy needs its own thread: give the step a thread name');
    }
    r.startBackground(p, { task: p.task, step: copier(r, p, a, true), thread, finite: false, done: false });
    return { result: 0 };
  },
};
