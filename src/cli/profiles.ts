// `daxsim profiles [NAME...]`: the kernel profiles, or every knob of the named ones.

import { profiles, resolveProfile } from '../kernel/profiles.ts';
import { formatProfile } from '../kernel/knobs.ts';
import { parseCommand, type CommandSpec } from './args.ts';

export const PROFILES: CommandSpec = {
  name: 'profiles',
  usage: `usage: daxsim profiles [NAME...]

  list the kernel profiles a scenario can name in kernel.profile (or daxsim run --profile);
  with names, every knob of each profile with its value and meaning, by subsystem`,
  options: {},
};

export function cmdProfiles(args: string[]): number {
  const { positionals } = parseCommand(PROFILES, args);
  if (positionals.length === 0) {
    const width = Math.max(...Object.keys(profiles).map((n) => n.length));
    for (const [name, p] of Object.entries(profiles)) console.log(`${name.padEnd(width)}  ${p.description}`);
    return 0;
  }
  for (const name of positionals) console.log(formatProfile(resolveProfile(name)));
  return 0;
}
