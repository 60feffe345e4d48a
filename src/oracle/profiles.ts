// Which model profile stands for which real kernel, and --fs: the same scenario on another
// filesystem (its `mounts:` rewritten, with the device the filesystem needs).

import type { DeviceSpec, MountArgs, Scenario } from '../scenario/types.ts';
import { ScenarioError } from '../scenario/types.ts';
import type { OracleFs } from './encode.ts';

/** The model profile for a real kernel version (each has its own), and a note (empty: none). */
export function profileFor(kernel: string): { profile: string; note: string } {
  switch (kernel) {
    case '5.10': case '6.1': case '6.12': case '6.18': case '7.2': return { profile: `linux-${kernel}`, note: '' };
    default: throw new Error(`profileFor: unknown kernel ${kernel}`);
  }
}

const GIB = 2 ** 30;

function device(s: Scenario, spec: DeviceSpec): DeviceSpec[] {
  return s.machine.devices.some((d) => d.name === spec.name) ? s.machine.devices : [...s.machine.devices, spec];
}

/** `s` with every mount on filesystem `fs` (the guest's devices: vda, a 2 GiB disk; pmem0, 1 GiB of pmem). */
export function withFs(s: Scenario, fs: OracleFs): Scenario {
  if (s.steps.some((st) => st.op === 'mkfs' || st.op === 'mount')) {
    throw new ScenarioError('steps', `--fs ${fs}: the scenario mounts in its steps; edit those steps instead`,
      s.source);
  }
  let devices = s.machine.devices;
  const mounts = s.mounts.map((m): MountArgs => {
    if (fs === 'tmpfs') return { device: undefined, fs: 'tmpfs', target: m.target, options: [] };
    if (fs === 'ext4') {
      devices = device({ ...s, machine: { ...s.machine, devices } }, { name: 'vda', type: 'block', sizeBytes: 2 * GIB,
        latencyNs: undefined, readAheadKb: undefined, maxSectorsKb: undefined, placement: undefined });
      return { device: 'vda', fs: 'ext4', target: m.target, options: [] };
    }
    devices = device({ ...s, machine: { ...s.machine, devices } }, { name: 'pmem0', type: 'pmem', sizeBytes: GIB,
      latencyNs: undefined, readAheadKb: undefined, maxSectorsKb: undefined, placement: undefined });
    return { device: 'pmem0', fs: fs === 'xfs-dax' ? 'xfs' : 'ext4', target: m.target, options: ['dax'] };
  });
  return { ...s, machine: { ...s.machine, devices }, mounts };
}
