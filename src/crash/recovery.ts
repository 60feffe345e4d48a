/**
 * The program's recovery code and check on one crash image, and power failures during recovery
 * (issue 15: "faults inside recovery are simulated too"). Recovery runs after a reboot on the
 * recovered files; if the power fails again while it runs, the next boot runs it again on what
 * the first attempt left, so recovery must be restartable (PMDK's recovery of redo and undo logs
 * is written to be idempotent for this reason: a log stays valid until its last step clears it).
 *
 * Model: a recovery write (`view.write`) is a write(2) to a file on ext4 -o dax, which the kernel
 * copies to the media with non-temporal stores and which the model treats as durable when the
 * call returns, as it does every kernel write (README, "Known limits": no crash point inside a
 * syscall). So a power failure during recovery leaves the first k of its W writes, k = 1..W
 * (k = W: recovery finished but the boot did not get further), never part of one write. For each
 * such image recovery runs again to completion, then the check; a failure is reported as the
 * 'recovery crash' invariant naming k and the write's source line. One level of re-crash: a crash
 * during the second attempt is not enumerated (each level multiplies the states by W).
 */
import { CrashView } from './view.ts';
import type { CrashProgram, ReadRange } from './explore.ts';

/** A broken invariant: its name, its message, and the bytes involved. */
export interface Violation { invariant: string; message: string; read: ReadRange[]; expected: ReadRange | null }

/** What recoverAndCheck does besides the first attempt, and where it counts what it checked. */
export interface RecoveryOptions {
  /** Also check each image a power failure during recovery leaves (default on in the explorer). */
  crashes: boolean;
  /** Record the bytes read and the recovery writes' call sites (failure reports only). */
  detail: boolean;
  /** The program's call site now (a recovery write's source line), used when `detail`. */
  site: () => string | null;
  /** Images checked after a crash during recovery, added to as they are checked. */
  counter: { recoveryStates: number };
}

/** One attempt: recover (an exception is the 'recover' invariant), then check. */
function attempt(view: CrashView, prog: CrashProgram, detail: boolean): Violation | null {
  if (detail) view.reads = new Map();
  try {
    if (prog.recover) {
      try {
        prog.recover(view);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const read = view.readRanges();
        return { invariant: 'recover', message: `recovery code threw: ${msg}`, read, expected: null };
      }
    }
    const r = prog.check ? prog.check(view) : null;
    return r === null ? null : { invariant: 'check', message: r, read: view.readRanges(), expected: null };
  } finally {
    view.reads = null;
  }
}

/**
 * The program's recovery code and check on `view` (a crash image; recovery's writes change it),
 * then, with `o.crashes`, on every image a power failure during that recovery leaves.
 */
export function recoverAndCheck(view: CrashView, prog: CrashProgram, o: RecoveryOptions): Violation | null {
  if (!prog.check && !prog.recover) return null;
  const base = o.crashes && prog.recover ? new Map(view.overlay) : null;
  if (base) {
    view.writeLog = [];
    view.siteOf = o.detail ? o.site : null;
  }
  let log: NonNullable<CrashView['writeLog']>;
  try {
    const first = attempt(view, prog, o.detail);
    if (first || !base) return first;
    log = view.writeLog!;
  } finally {
    view.writeLog = null;
    view.siteOf = null;
  }
  const image = new Map(base);
  for (let k = 1; k <= log.length; k++) {
    const w = log[k - 1]!;
    for (let i = 0; i < w.keys.length; i++) image.set(w.keys[i]!, w.bytes[i]!);
    o.counter.recoveryStates++;
    const again = attempt(view.withOverlay(new Map(image)), prog, o.detail);
    if (!again) continue;
    const at = w.site ? ` at ${w.site}` : '';
    return { invariant: 'recovery crash', read: again.read, expected: null,
      message: `power failure after recovery write ${k} of ${log.length}${at} (${w.path} [${w.offset}, ` +
        `${w.offset + w.keys.length})), then recovery again: ${again.invariant}: ${again.message}` };
  }
  return null;
}
