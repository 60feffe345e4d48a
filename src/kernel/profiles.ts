/**
 * Kernel profiles: the registry a scenario names a profile through (`kernel: { profile, <knob>: value }`).
 * Profiles are data (DESIGN.md "Profiles"); code reads knobs, never version numbers.
 *
 * - knobs.ts: the runtime shape (`KernelProfile`, a flat object read as `k.profile.x` on hot
 *   paths) and the knob schema table (subsystem, type, allowed values, meaning, reference) that
 *   validates and displays it.
 * - profile-bases.ts: the releases as named bases (`base315`, `base413`, `base415`, `base510`,
 *   `base61`, `base612`, `base618`, `base72`, `dax2014`, and the pre-5 delta `pre5`) a new profile spreads.
 * - profiles-rfc.ts: the RFC profiles (rfc-shutemov-2014, rfc-kani-2014, rfc-wilcox-2014, and this
 *   project's example rfc-dax-entry-pfn); every profile it exports is registered here.
 *
 * Every profile is validated against the schema when this module loads (a bad value in a
 * definition fails at once, not when a fault reads it); `resolveProfile` validates a scenario's
 * overrides the same way. Lookups are by own property only: `constructor` or `__proto__` is
 * neither a profile nor a knob.
 */
import {
  KNOB_NAMES, ProfileError, knobRow, unknownKnob, validateKnob, type KernelProfile,
} from './knobs.ts';
import { base315, base413, base415, base510, base61, base612, base618, base72, dax2014 } from './profile-bases.ts';
import * as rfcProfiles from './profiles-rfc.ts';
import { didYouMean, nearest } from '../lib/suggest.ts';

export type { KernelProfile, FaultAroundStyle, PgfaultAccounting, RusageAccounting, MmapMissStyle } from './knobs.ts';
export { ProfileError, faultAroundBytesSet, formatProfile, KNOBS } from './knobs.ts';
export {
  base315, base413, base415, base510, base61, base612, base618, base72, dax2014, pre5,
} from './profile-bases.ts';
export { rfcKani2014, rfcShutemov2014, rfcWilcox2014 } from './profiles-rfc.ts';

/**
 * Checks a profile definition (every entry of `profiles` when this module loads; exported for
 * tests and for profiles defined elsewhere): named `key`, a description, every knob of the schema with a
 * valid value the kernel keeps, nothing else. Throws ProfileError naming the profile and knob.
 */
export function checkDefinition(key: string, p: KernelProfile): KernelProfile {
  const fields = p as unknown as Readonly<Record<string, unknown>>;
  if (p.name !== key) throw new ProfileError(`profile "${key}": its name is "${p.name}"`, 'name', p.name, [key], []);
  if (typeof p.description !== 'string' || p.description === '') {
    throw new ProfileError(`profile "${key}": no description`, 'description', p.description, [], []);
  }
  for (const name of Object.keys(fields)) {
    if (name === 'name' || name === 'description') continue;
    if (knobRow(name) !== undefined) continue;
    const e = unknownKnob(name);
    throw new ProfileError(`profile "${key}": ${e.message}`, name, fields[name], e.allowed, e.suggestion);
  }
  for (const name of KNOB_NAMES) {
    if (!Object.hasOwn(fields, name)) {
      throw new ProfileError(`profile "${key}": kernel.${name} is missing`, name, undefined, [], []);
    }
    try {
      validateKnob(name, fields[name], false);
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      throw new ProfileError(`profile "${key}": ${e.message}`, e.knob, e.value, e.allowed, e.suggestion);
    }
  }
  return p;
}

/** The profiles by name (a null-prototype map: only these names resolve), in `daxsim profiles` order. */
export const profiles: Readonly<Record<string, KernelProfile>> = Object.freeze(Object.assign(
  Object.create(null) as Record<string, KernelProfile>,
  {
    'linux-3.15': base315,
    'rfc-shutemov-2014': rfcProfiles.rfcShutemov2014,
    'dax-2014': dax2014,
    'rfc-kani-2014': rfcProfiles.rfcKani2014,
    'rfc-wilcox-2014': rfcProfiles.rfcWilcox2014,
    'linux-4.13': base413,
    'linux-4.15': base415,
    'linux-5.10': base510,
    'linux-6.1': base61,
    'linux-6.12': base612,
    'linux-6.18': base618,
    'linux-7.2': base72,
  },
  // Every other profile profiles-rfc.ts exports, after the releases: adding an RFC profile is one
  // `export const` there (module namespace order: by export name).
  Object.fromEntries(Object.values(rfcProfiles).filter((p) => !['rfc-shutemov-2014', 'rfc-kani-2014',
    'rfc-wilcox-2014'].includes(p.name)).map((p) => [p.name, p])),
));
for (const [key, p] of Object.entries(profiles)) checkDefinition(key, p);

/** The profile named `name`, or a ProfileError with the nearest names and the list. */
function lookupProfile(name: string): KernelProfile {
  if (typeof name === 'string' && Object.hasOwn(profiles, name)) return profiles[name]!;
  const known = Object.keys(profiles);
  const text = String(name);
  throw new ProfileError(
    `unknown kernel profile ${JSON.stringify(text)}${didYouMean(text, known)}; known: ${known.join(', ')}`,
    'profile', name, known, nearest(text, known));
}

/**
 * The profile `name` with a scenario's knob overrides (`kernel: { profile, <knob>: value }`; the
 * `profile` key itself is skipped). Each override is validated against the knob schema and stored
 * as the kernel would keep it (faultAroundBytes through fault_around_bytes_set). Throws ProfileError.
 */
export function resolveProfile(name: string, overrides: Readonly<Record<string, unknown>> = {}): KernelProfile {
  const p = lookupProfile(name);
  const out: Record<string, unknown> = { ...p };
  for (const key of Object.keys(overrides)) {
    if (key === 'profile') continue;
    out[key] = validateKnob(key, overrides[key], true);
  }
  return out as unknown as KernelProfile;
}
