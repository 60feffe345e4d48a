/**
 * daxsim's public API for programs outside the tree (`import { ... } from 'daxsim'`, package.json
 * "exports"): the machine and its processes, the crash explorer with its program and view types,
 * the persistent-memory operations, and the constants a program passes to syscalls.
 */
export { Machine, Process } from './api/machine.ts';
export { explore, replay, CrashInputError, CrashProgramError, fileOfBlock } from './crash/explore.ts';
export type {
  CrashContext, CrashProgram, CrashFailure, ExploreOptions, ExploreResult, ReplayResult, Verdict, LineChoice,
  ReadRange,
} from './crash/explore.ts';
export { CrashView, RecoveryWriteError } from './crash/view.ts';
export { PmOps, PmProgramError, MOVNT_THRESHOLD } from './crash/pm.ts';
export { exitCodeOf, formatExplore, formatReplay, EXIT_PASS, EXIT_FAIL, EXIT_INCOMPLETE } from './crash/report.ts';
export {
  O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, PROT_NONE, PROT_READ, PROT_WRITE, MAP_SHARED, MAP_PRIVATE,
  MAP_SHARED_VALIDATE, MAP_SYNC, MAP_POPULATE, MS_SYNC, MS_ASYNC,
} from './mm/constants.ts';
