/**
 * Invariant checks. An impossible state stops the simulation with a message that names the
 * invariant, as xv6's panic() and TigerBeetle's assertions do. `assertions.enabled` may be
 * switched off by the benchmark; every check is a plain branch so the cost when on is small.
 */
export const assertions = { enabled: true };

export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

/** Throw an InvariantError when `cond` is false. */
export function assert(cond: boolean, message: string): asserts cond {
  if (!cond) throw new InvariantError(message);
}

/** Unconditional failure for states that must never occur. */
export function panic(message: string): never {
  throw new InvariantError(message);
}
