// A progress line on stderr for work that runs longer than a second (a scenario step, a batch
// of fuzz programs, a crash exploration): nothing for short work; on a terminal one line
// rewritten in place (carriage return, erase to end of line); elsewhere (a log, CI) a plain line
// at most every few seconds. The clock is injected, so tests decide what "a second" is; the
// writer never touches stdout, which carries the results (and --json).

/** Where the line goes: process.stderr, or a test's recorder. */
export interface ProgressOut {
  readonly isTTY: boolean;
  write(text: string): void;
}

export interface ProgressTiming {
  /** Quiet until the work has run this long. */
  afterMs: number;
  /** A terminal's line is rewritten at most this often. */
  ttyEveryMs: number;
  /** Without a terminal, a plain line at most this often. */
  plainEveryMs: number;
  /** tick() reads the clock once per this many calls (a page loop calls it per page). */
  checkEvery: number;
}

const DEFAULT_TIMING: ProgressTiming = { afterMs: 1000, ttyEveryMs: 100, plainEveryMs: 5000, checkEvery: 16 };
const MAX_COLUMNS = 119;

/** One progress line: begin(label, total), tick(done) often, end() once. */
export class ProgressLine {
  private readonly out: ProgressOut;
  private readonly now: () => number;
  private readonly t: ProgressTiming;
  private label = '';
  private unit = '';
  private total = 0;
  private done = 0;
  private startMs = 0;
  private lastMs = -Infinity;
  private calls = 0;
  private shown = false;
  private active = false;

  constructor(out: ProgressOut, now: () => number = Date.now, timing: Partial<ProgressTiming> = {}) {
    this.out = out;
    this.now = now;
    this.t = { ...DEFAULT_TIMING, ...timing };
  }

  /** Starts timing a piece of work; `total` 0 when its size is not known. */
  begin(label: string, total = 0, unit = ''): void {
    this.label = label;
    this.total = total;
    this.unit = unit;
    this.done = 0;
    this.calls = 0;
    this.startMs = this.now();
    this.lastMs = -Infinity;
    this.shown = false;
    this.active = true;
  }

  /** The size of the work begun, once known (an access step's page count). */
  size(total: number, unit: string): void {
    this.total = total;
    this.unit = unit;
  }

  /** `done` units so far; cheap (a counter) except every checkEvery-th call. */
  tick(done: number): void {
    this.done = done;
    if (!this.active || ++this.calls < this.t.checkEvery) return;
    this.calls = 0;
    if (this.total > 0 && done >= this.total) return; // end() prints the last line
    const ms = this.now();
    const elapsed = ms - this.startMs;
    if (elapsed < this.t.afterMs) return;
    const every = this.out.isTTY ? this.t.ttyEveryMs : this.t.plainEveryMs;
    if (ms - this.lastMs < every) return;
    this.lastMs = ms;
    this.print(elapsed, false);
  }

  /** Ends the work: a final line (with its time) only when it ran long enough to be shown. */
  end(): void {
    if (!this.active) return;
    this.active = false;
    const elapsed = this.now() - this.startMs;
    if (this.shown || elapsed >= this.t.afterMs) this.print(elapsed, true);
  }

  private print(elapsedMs: number, final: boolean): void {
    const of = this.total > 0 ? `${this.done}/${this.total}` : `${this.done}`;
    const count = this.done > 0 || this.total > 0 ? `, ${of}${this.unit ? ` ${this.unit}` : ''}` : '';
    const text = `[daxsim] ${this.label}${final ? ' done' : ''}: ${(elapsedMs / 1000).toFixed(1)} s${count}`;
    const line = text.length > MAX_COLUMNS ? `${text.slice(0, MAX_COLUMNS - 3)}...` : text;
    if (this.out.isTTY) this.out.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else this.out.write(`${line}\n`);
    this.shown = true;
  }
}

/**
 * The progress line of this process, on stderr (whether it is a terminal decides the style);
 * `checkEvery` 1 for coarse units (a scenario, a crash point), more for a page loop.
 */
export function stderrProgress(checkEvery = DEFAULT_TIMING.checkEvery): ProgressLine {
  return new ProgressLine({ isTTY: process.stderr.isTTY === true, write: (s) => process.stderr.write(s) }, Date.now,
    { checkEvery });
}
