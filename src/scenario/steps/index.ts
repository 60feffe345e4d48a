// The runner's table of step handlers: one entry per step kind of types.ts (STEP_KINDS), as the
// parser's table of step readers (parse.ts STEP_READERS) has one reader per kind. The mapped
// type makes every kind's handler take its own StepOf<kind>, and a missing one a type error.

import type { Process } from '../../api/machine.ts';
import type { StepKind, StepOf } from '../types.ts';
import { ACCESS_STEPS } from './access.ts';
import { CONTROL_STEPS } from './control.ts';
import { DATA_STEPS } from './data.ts';
import type { StepHandler, StepHandlers, StepOutcome, StepRunner } from './context.ts';
import { FILE_STEPS } from './files.ts';
import { MAPPING_STEPS } from './mappings.ts';
import { SYSTEM_STEPS } from './system.ts';
import { PROC_STEPS } from './procs.ts';

export const STEP_HANDLERS: StepHandlers = {
  ...FILE_STEPS,
  ...MAPPING_STEPS,
  ...ACCESS_STEPS,
  ...DATA_STEPS,
  ...SYSTEM_STEPS,
  ...CONTROL_STEPS,
  ...PROC_STEPS,
};

/** Runs `step` through its kind's handler (one table lookup per step). */
export function runStepHandler<K extends StepKind>(
  r: StepRunner, step: StepOf<K>, p: Process, pn: string,
): StepOutcome {
  const handler: StepHandler<K> = STEP_HANDLERS[step.op];
  return handler(r, step, p, pn);
}
