// Which errors are the user's (a message, exit 2) and which are the model's bugs (a stack, exit 3).

import { ScenarioError } from '../scenario/types.ts';
import { ProfileError } from '../kernel/knobs.ts';
import { CrashInputError, CrashProgramError } from '../crash/explore.ts';
import { UsageError } from './args.ts';

/** The one-line message of an error the user caused, or null for an internal error. */
export function describeUserError(e: unknown): string | null {
  if (e instanceof ScenarioError || e instanceof CrashInputError || e instanceof ProfileError) return e.message;
  if (e instanceof CrashProgramError) return e.message;
  if (e instanceof UsageError) return e.message;
  return null;
}

/** An error raised in a worker thread, carried back to the main thread. */
export class WorkerError extends Error {
  readonly user: boolean;
  constructor(message: string, user: boolean) {
    super(message);
    this.user = user;
  }
}
