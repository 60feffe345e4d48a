// The scenario vocabulary: what a validated scenario file becomes. Parsing and validation live
// in parse.ts; running a scenario is the runner's job. Every size is in bytes and every
// duration in nanoseconds by the time it gets here; defaults are filled in, so a field that is
// still `undefined` means "the runner decides" (documented on the field).

/** A scenario that cannot be accepted. `where` is the path of the bad value, e.g. `steps[4] (mmap).flags[1]`. */
export class ScenarioError extends Error {
  /** Path of the offending value inside the scenario, e.g. `machine.devices[0].sizeBytes`. */
  readonly where: string;
  /** What is wrong, without the location. */
  readonly detail: string;
  /** The file or label the scenario came from, when known. */
  readonly source: string | undefined;
  /** 1-based line of the offending value, when the YAML parser gave one. */
  readonly line: number | undefined;

  constructor(where: string, detail: string, source?: string, line?: number) {
    const place = source === undefined ? undefined : line === undefined ? source : `${source}:${line}`;
    super([place, where, detail].filter((part) => part !== undefined && part !== '').join(': '));
    this.name = 'ScenarioError';
    this.where = where;
    this.detail = detail;
    this.source = source;
    this.line = line;
  }
}

/** Upper bound on the number of steps in one scenario. */
export const STEPS_MAX = 100_000;
/**
 * Upper bound on a scenario file's size, checked before the YAML parser sees it: 100,000 steps
 * written out one a line take 5-10 MB, and the parser needs about 20 bytes of memory and a few
 * microseconds per input byte, so a larger file could only exceed STEPS_MAX after a long parse.
 */
export const SCENARIO_BYTES_MAX = 16 * 2 ** 20;
/** Upper bound on the length of an `access.pages` list. */
export const ACCESS_PAGES_MAX = 1 << 20;
/** Upper bound on `machine.cpus`. */
export const CPUS_MAX = 1024;

// ---- Flag vocabularies (names only; numeric values belong to the API layer) ----

export const OPEN_FLAG_NAMES = [
  'O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC', 'O_APPEND', 'O_DIRECT', 'O_SYNC', 'O_DSYNC',
] as const;
export type OpenFlagName = (typeof OPEN_FLAG_NAMES)[number];
/** open() needs exactly one of these. */
export const OPEN_ACCESS_MODES: readonly OpenFlagName[] = ['O_RDONLY', 'O_WRONLY', 'O_RDWR'];

export const PROT_NAMES = ['PROT_NONE', 'PROT_READ', 'PROT_WRITE', 'PROT_EXEC', 'PROT_SEM'] as const;
export type ProtName = (typeof PROT_NAMES)[number];

export const MMAP_FLAG_NAMES = [
  'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE', 'MAP_FIXED', 'MAP_FIXED_NOREPLACE', 'MAP_ANONYMOUS',
  'MAP_POPULATE', 'MAP_SYNC', 'MAP_NORESERVE', 'MAP_LOCKED', 'MAP_NONBLOCK', 'MAP_STACK', 'MAP_HUGETLB',
  'MAP_GROWSDOWN', 'MAP_DENYWRITE', 'MAP_EXECUTABLE', 'MAP_32BIT', 'MAP_UNINITIALIZED',
] as const;
export type MmapFlagName = (typeof MMAP_FLAG_NAMES)[number];
/** Other spellings accepted in files, stored under the canonical name. */
export const MMAP_FLAG_ALIASES: Readonly<Record<string, MmapFlagName>> = { MAP_ANON: 'MAP_ANONYMOUS' };

export const MSYNC_FLAG_NAMES = ['MS_SYNC', 'MS_ASYNC', 'MS_INVALIDATE'] as const;
export type MsyncFlagName = (typeof MSYNC_FLAG_NAMES)[number];

export const FALLOC_FLAG_NAMES = ['FALLOC_FL_KEEP_SIZE', 'FALLOC_FL_PUNCH_HOLE', 'FALLOC_FL_ZERO_RANGE',
  'FALLOC_FL_NO_HIDE_STALE', 'FALLOC_FL_COLLAPSE_RANGE', 'FALLOC_FL_INSERT_RANGE', 'FALLOC_FL_UNSHARE_RANGE',
  'FALLOC_FL_WRITE_ZEROES'] as const;
export type FallocFlagName = (typeof FALLOC_FLAG_NAMES)[number];

export const MADVISE_NAMES = [
  'MADV_NORMAL', 'MADV_RANDOM', 'MADV_SEQUENTIAL', 'MADV_WILLNEED', 'MADV_DONTNEED', 'MADV_HUGEPAGE',
  'MADV_NOHUGEPAGE', 'MADV_FREE', 'MADV_REMOVE', 'MADV_DONTFORK', 'MADV_DOFORK', 'MADV_COLD', 'MADV_PAGEOUT',
  'MADV_POPULATE_READ', 'MADV_POPULATE_WRITE', 'MADV_WIPEONFORK', 'MADV_KEEPONFORK',
] as const;

export const MREMAP_FLAG_NAMES = ['MREMAP_MAYMOVE', 'MREMAP_FIXED', 'MREMAP_DONTUNMAP'] as const;
export type MremapFlagName = (typeof MREMAP_FLAG_NAMES)[number];
export const MLOCK_FLAG_NAMES = ['MLOCK_ONFAULT'] as const;
export type MlockFlagName = (typeof MLOCK_FLAG_NAMES)[number];
export const MCL_FLAG_NAMES = ['MCL_CURRENT', 'MCL_FUTURE', 'MCL_ONFAULT'] as const;
export type MclFlagName = (typeof MCL_FLAG_NAMES)[number];
export type MadviseName = (typeof MADVISE_NAMES)[number];

export const ERRNO_NAMES = [
  'EPERM', 'ENOENT', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'EBADF', 'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT',
  'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV', 'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY',
  'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE', 'EROFS', 'ENAMETOOLONG', 'ENOSYS', 'ELOOP', 'EOVERFLOW',
  'EOPNOTSUPP', 'ENOTSUP', 'EDQUOT', 'ESTALE', 'EHWPOISON', 'ECHILD', 'ESRCH',
] as const;
export type ErrnoName = (typeof ERRNO_NAMES)[number];

export const SIGNAL_NAMES = ['SIGBUS', 'SIGSEGV', 'none'] as const;
export type SignalName = (typeof SIGNAL_NAMES)[number];

/**
 * A set of flags as written: canonical names in file order (no repeats), plus the OR of any
 * raw numbers given for bits the vocabulary does not name (0 when none).
 */
export interface FlagSet<Name extends string> {
  names: Name[];
  extraBits: number;
}

// ---- Machine, kernel, mounts ----

export type Placement = 'aligned' | 'unaligned' | 'mballoc';
export type FsType = 'ext4' | 'xfs' | 'tmpfs';

/** A knob override value after unit conversion (keys ending Bytes are bytes, Ns are ns). */
export type KnobValue = number | string | boolean;

export interface KernelSpec {
  /** Profile name, not validated here; undefined means the runner's default profile. */
  profile: string | undefined;
  /** Every other key of `kernel:`, with sizes/durations converted. Validated by the runner. */
  knobs: Record<string, KnobValue>;
}

export interface DeviceSpec {
  name: string;
  type: 'block' | 'pmem';
  sizeBytes: number;
  /** undefined: the device type's default latency from the cost table. */
  latencyNs: number | undefined;
  /** read_ahead_kb of the device (readahead window of its files). */
  readAheadKb: number | undefined;
  /** max_sectors_kb of the device (its largest request). */
  maxSectorsKb: number | undefined;
  /** undefined: the runner's default placement. */
  placement: Placement | undefined;
}

export interface MachineSpec {
  memoryBytes: number;
  /** Default 1. */
  cpus: number;
  devices: DeviceSpec[];
}

// ---- Step arguments ----

export interface CreateArgs {
  path: string;
  sizeBytes: number;
  /** Default 'written': the file's data is written; 'sparse' only sets the size. */
  content: 'written' | 'sparse';
  /** Size of each write() when content is 'written'. Default 4 KiB. */
  writeChunkBytes: number;
  /** fsync() after writing. Default false. */
  fsync: boolean;
  /** Permission bits, from an octal string such as "0644"; undefined means the runner's default. */
  mode: number | undefined;
}

export interface OpenArgs {
  path: string;
  flags: FlagSet<OpenFlagName>;
  /** Name the descriptor is known by in later steps. */
  fd: string;
}

export interface FdArgs {
  fd: string;
}

export interface ReadArgs {
  fd: string;
  lengthBytes: number;
  /** Size of each syscall; undefined means one call for the whole length. */
  chunkBytes: number | undefined;
  /** The user buffer is this range of a mapping (copy_to_user / copy_from_user fault on it). */
  buffer: BufferSpec | undefined;
  /**
   * Without `buffer`: the runner's own page-aligned buffer is used from this byte on (0-4095), so
   * its address is this far past alignment (O_DIRECT's alignment rule sees it). Default 0.
   */
  bufferOffsetBytes: number;
}

/**
 * Bytes a step writes or expects: a cyclic byte sequence (`bytes`, a `string` as UTF-8, or a
 * `pattern` given as hex) repeated over the length, or seeded pseudo-random bytes (`pattern:
 * random`, with `seed`); byte i of a step is element i of the sequence (src/lib/data.ts).
 */
export type DataSpec =
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'random'; seed: number };

/** Where a read/write step's buffer lies: the runner's own memory, or a range of a mapping. */
export interface BufferSpec {
  map: string;
  /** Default 0. */
  offsetBytes: number;
}

export interface WriteArgs extends ReadArgs {
  /** Fill value 0-255; undefined means the runner's default (or `data`). */
  byte: number | undefined;
  /** The bytes written (instead of byte); undefined: every byte is `byte`. */
  data: DataSpec | undefined;
}

export interface PreadArgs extends ReadArgs {
  /** Default 0. */
  offsetBytes: number;
}

export interface PwriteArgs extends WriteArgs {
  /** Default 0. */
  offsetBytes: number;
}

export interface FtruncateArgs {
  fd: string;
  sizeBytes: number;
}

export interface FallocateArgs {
  fd: string;
  offsetBytes: number;
  lengthBytes: number;
  /** Any combination is accepted; the runner returns the errno Linux gives for unsupported ones. Default []. */
  mode: FlagSet<FallocFlagName>;
}

export interface PathArgs {
  path: string;
}

export interface MmapArgs {
  /** undefined exactly when flags include MAP_ANONYMOUS. */
  fd: string | undefined;
  lengthBytes: number;
  prot: FlagSet<ProtName>;
  flags: FlagSet<MmapFlagName>;
  /** Hint or fixed address; required when flags include MAP_FIXED or MAP_FIXED_NOREPLACE. */
  addrBytes: number | undefined;
  /** File offset. Default 0. */
  offsetBytes: number;
  /** Name the mapping is known by in later steps. */
  map: string;
}

/** A byte range of a named mapping, relative to its start. */
export interface MapRangeArgs {
  map: string;
  /** Default 0. */
  offsetBytes: number;
  /** undefined: from offsetBytes to the end of the mapping. */
  lengthBytes: number | undefined;
}

export interface MprotectArgs extends MapRangeArgs {
  prot: FlagSet<ProtName>;
}

export interface MadviseArgs extends MapRangeArgs {
  advice: MadviseName;
}

export interface MsyncArgs extends MapRangeArgs {
  flags: FlagSet<MsyncFlagName>;
}

/** Which pages an access step touches: a strided byte range, or an explicit page list. */
export type AccessSpan =
  | {
      kind: 'range';
      /** Default 0. */
      offsetBytes: number;
      /** undefined: to the end of the mapping. */
      lengthBytes: number | undefined;
      /** Default 4 KiB. */
      strideBytes: number;
    }
  | {
      kind: 'pages';
      /** Page indices relative to the start of the mapping, in the order given. */
      pages: number[];
    };

export interface AccessArgs {
  map: string;
  op: 'read' | 'write';
  span: AccessSpan;
  /**
   * Default 'ascending'. 'random': every page once, in a seeded random permutation; 'zipf': as
   * many accesses as pages, each drawn with probability 1/(rank+1)^exponent over a seeded
   * permutation of the pages (src/scenario/order.ts; seeded by the scenario's seed and the step).
   */
  order: AccessOrder;
  /** Zipf exponent (order: zipf only). Default 1. */
  exponent: number | undefined;
  /**
   * The step's position in the scenario file (set by the parser): with the scenario's seed it
   * seeds a random order, and stays the same when tools insert steps (the oracle's reports).
   */
  orderIndex: number;
  /** Value stored by writes, 0-255 (only with op: write); undefined means the runner's default. */
  byte: number | undefined;
  /**
   * true: the access starts on its own thread (the step's `thread`) and runs alongside the
   * following steps under the deterministic scheduler, one page at a time, until it ends; a later
   * `wait` step joins it (its signal, if any, is reported there).
   */
  background: boolean;
}

export const ACCESS_ORDERS = ['ascending', 'descending', 'random', 'zipf'] as const;
export type AccessOrder = (typeof ACCESS_ORDERS)[number];

/** Sizes of one CPU load or store (a mov of 1, 2, 4 or 8 bytes). */
export const ACCESS_SIZES = [1, 2, 4, 8] as const;
export type AccessSize = (typeof ACCESS_SIZES)[number];

export interface LoadArgs {
  map: string;
  offsetBytes: number;
  /** Default 1. An access crossing a page boundary faults on each missing page, in address order. */
  sizeBytes: AccessSize;
}

export interface StoreArgs {
  map: string;
  offsetBytes: number;
  /** The first byte stored (bytes[0]; kept for one-byte stores). */
  byte: number;
  /** The sizeBytes bytes stored, in memory order (little-endian for a `value`). */
  bytes: number[];
}

/** memset(3) over a mapping: a forward loop of stores. */
export interface MemsetArgs extends MapRangeArgs {
  byte: number;
}

/** memcpy(3) between mapping ranges: a forward copy loop (each source page read, then the destination written). */
export interface MemcpyArgs {
  map: string;
  offsetBytes: number;
  fromMap: string;
  fromOffsetBytes: number;
  lengthBytes: number;
}

/** mincore(2) of a mapping range: the result is the number of resident pages, the vector is in `data`. */
export interface MincoreArgs extends MapRangeArgs {}

export interface FlushArgs {
  map: string;
  offsetBytes: number;
  lengthBytes: number;
  insn: 'clwb' | 'clflushopt' | 'clflush';
}

export interface FenceArgs {
  insn: 'sfence' | 'mfence';
}

export interface MkfsArgs {
  device: string;
  fs: FsType;
  /** undefined: the device's placement. */
  placement: Placement | undefined;
  /** mkfs.xfs geometry (xfs only): `-d su=,sw=` stripe unit and width, `-d extszinherit=` extent size hint. */
  xfs: XfsMkfsOptions;
}

/** mkfs.xfs options the model honours (bytes; 0: not given, as mkfs.xfs's defaults). */
export interface XfsMkfsOptions {
  suBytes: number;
  sw: number;
  extsizeBytes: number;
}

export interface MountArgs {
  /** Required unless fs is tmpfs (which takes none). */
  device: string | undefined;
  /** undefined: whatever mkfs put on the device. */
  fs: FsType | undefined;
  target: string;
  /** Mount options as written (dax, dax=always, ...); interpreted by the runner. */
  options: string[];
}

export interface UmountArgs {
  target: string;
}

/** mount(2) with MS_REMOUNT on a mounted target: read-only (MS_RDONLY) or read-write again. */
export interface RemountArgs {
  target: string;
  mode: 'ro' | 'rw';
}

export interface DropCachesArgs {
  /** What /proc/sys/vm/drop_caches is given: 1 page cache, 2 slab, 3 both. Default 3. */
  value: 1 | 2 | 3;
}

export interface SetKnobArgs {
  name: string;
  value: KnobValue;
}

export interface SleepArgs {
  durationNs: number;
}

/** Copy a file with read/write in chunks (cp); with background: true it loops alongside later steps. */
export interface CopyArgs {
  from: string;
  to: string;
  chunkBytes: number;
  background: boolean;
}

/** Run the scheduler until the background accesses of a thread (default: all) have ended, like pthread_join. */
export interface WaitArgs {
  thread: string | undefined;
}

/**
 * Run a list of steps `repeat` times (forever with background: true and no repeat, until `stop`)
 * on the loop's thread; with background: true as background work, one inner step per scheduler
 * unit, alongside the steps after the loop, joined by `wait` when finite.
 */
export interface LoopArgs {
  steps: Step[];
  repeat: number | undefined;
  background: boolean;
}

/** Stop the background work of a thread (default: all). */
export interface StopArgs {
  thread: string | undefined;
}

export interface ReportArgs {
  /** Unique among the scenario's reports. */
  name: string;
}

export interface SpawnArgs {
  thread: string;
  /** undefined: the thread joins the default process. */
  process: string | undefined;
}

/** fork(2) by the step's process (default main): the child is a new process of that name. */
export interface ForkArgs { child: string }
/** _exit(2) of the step's process (never the first, main). */
export interface ExitArgs { status: number }
/** waitpid(2) by the step's process for its child, which must have exited; the result is its status. */
export interface WaitpidArgs { child: string }
/** mremap(2) of (part of) a mapping; the map name follows the moved range. */
export interface MremapArgs {
  map: string;
  /** Where in the mapping the old range starts (default 0). */
  offsetBytes: number;
  /** undefined: from offsetBytes to the end of the mapping. */
  oldLengthBytes: number | undefined;
  newLengthBytes: number;
  flags: FlagSet<MremapFlagName>;
  /** MREMAP_FIXED (or a DONTUNMAP hint): the new address. */
  newAddrBytes: number | undefined;
}
/** mlock(2), or mlock2(2) when flags are given. */
export interface MlockArgs extends MapRangeArgs { flags: FlagSet<MlockFlagName> }
export interface MlockallArgs { flags: FlagSet<MclFlagName> }
export type NoArgs = Record<string, never>;

/** The arguments of each op; the keys of this map are the op names. */
export interface ArgsByOp {
  loop: LoopArgs;
  create: CreateArgs;
  open: OpenArgs;
  close: FdArgs;
  read: ReadArgs;
  write: WriteArgs;
  pread: PreadArgs;
  pwrite: PwriteArgs;
  ftruncate: FtruncateArgs;
  fallocate: FallocateArgs;
  fsync: FdArgs;
  fdatasync: FdArgs;
  unlink: PathArgs;
  mkdir: PathArgs;
  stat: PathArgs;
  mmap: MmapArgs;
  munmap: MapRangeArgs;
  mprotect: MprotectArgs;
  madvise: MadviseArgs;
  msync: MsyncArgs;
  access: AccessArgs;
  load: LoadArgs;
  store: StoreArgs;
  flush: FlushArgs;
  fence: FenceArgs;
  memset: MemsetArgs;
  memcpy: MemcpyArgs;
  mincore: MincoreArgs;
  mkfs: MkfsArgs;
  mount: MountArgs;
  umount: UmountArgs;
  remount: RemountArgs;
  dropCaches: DropCachesArgs;
  setKnob: SetKnobArgs;
  sleep: SleepArgs;
  report: ReportArgs;
  spawn: SpawnArgs;
  copy: CopyArgs;
  stop: StopArgs;
  wait: WaitArgs;
  fork: ForkArgs;
  exit: ExitArgs;
  waitpid: WaitpidArgs;
  mremap: MremapArgs;
  mlock: MlockArgs;
  munlock: MapRangeArgs;
  mlockall: MlockallArgs;
  munlockall: NoArgs;
}

export type Op = keyof ArgsByOp;

/**
 * Every step kind, in the order the parser lists them in its "unknown op" message. The parser's
 * table of step readers (parse.ts) and the runner's table of step handlers (steps/index.ts) are
 * keyed by exactly these names (test/scenario-steps.test.ts); a new step is its args type in
 * ArgsByOp, its name here, one reader and one handler.
 */
export const STEP_KINDS = [
  'create', 'open', 'close', 'read', 'write', 'pread', 'pwrite', 'ftruncate', 'fallocate', 'fsync', 'fdatasync',
  'unlink', 'mkdir', 'stat', 'mmap', 'munmap', 'mprotect', 'madvise', 'msync', 'access', 'load', 'store',
  'flush', 'fence', 'memset', 'memcpy', 'mincore', 'mkfs', 'mount', 'umount', 'remount', 'dropCaches', 'setKnob',
  'sleep',
  'copy', 'stop', 'wait', 'report', 'spawn', 'loop',
  'fork', 'exit', 'waitpid', 'mremap', 'mlock', 'munlock', 'mlockall', 'munlockall',
] as const satisfies readonly Op[];
export type StepKind = (typeof STEP_KINDS)[number];
/** Compiles only while STEP_KINDS names every op of ArgsByOp (the `satisfies` above refuses extra names). */
export type StepKindsNameEveryOp = AssertNever<Exclude<Op, StepKind>>;
type AssertNever<T extends never> = T;

// ---- Expectations ----

export interface FileExpect {
  sizeBytes?: number;
  blocks?: number;
}

/** What a step should observe. Only the fields written in the file are present; absent means "not checked". */
export interface Expect {
  /** 'ok' means the call must succeed. */
  errno?: ErrnoName | 'ok';
  signal?: SignalName;
  /** Page index (relative to the mapping) the signal is raised for; requires signal SIGBUS or SIGSEGV. */
  signalPage?: number;
  /** The call's return value. */
  result?: number;
  vmstat?: Record<string, number>;
  rusage?: { minflt?: number; majflt?: number };
  meminfo?: Record<string, number>;
  events?: Record<string, number>;
  /** Keyed by absolute path. */
  files?: Record<string, FileExpect>;
  /** Keyed by mapping name, then smaps field name. */
  smaps?: Record<string, Record<string, number | string>>;
  /** The bytes the step read (read, pread, load; mincore's vector, one byte per page). */
  data?: DataSpec;
}

// ---- Steps and the scenario ----

export interface StepBase {
  /** Position in `steps`, from 0. */
  index: number;
  /** 1-based line of the step in the source, when known. */
  line: number | undefined;
  /** undefined: the default thread. */
  thread: string | undefined;
  /** undefined: the thread's process (or the default process). */
  process: string | undefined;
  expect: Expect | undefined;
}

export type StepOf<O extends Op> = StepBase & { op: O; args: ArgsByOp[O] };

/** One step; narrow on `op` to get typed `args`. */
export type Step = { [O in Op]: StepOf<O> }[Op];

export interface Scenario {
  /** The file name or label given to the parser. */
  source: string;
  name: string | undefined;
  /** Default 1. */
  seed: number;
  kernel: KernelSpec;
  machine: MachineSpec;
  /** Mounted, in order, before the first step. */
  mounts: MountArgs[];
  steps: Step[];
}
