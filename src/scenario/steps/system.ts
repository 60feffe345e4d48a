// Step handlers for the machine's administration: making and mounting filesystems, and the
// /proc/sys knobs a scenario may write while it runs.

import { EINVAL } from '../../lib/errno.ts';
import type { StepHandlers } from './context.ts';

type SystemStep = 'mkfs' | 'mount' | 'umount' | 'remount' | 'dropCaches' | 'setKnob';

export const SYSTEM_STEPS: Pick<StepHandlers, SystemStep> = {
  /** mkfs.ext4 or mkfs.xfs on a device (tmpfs needs none; xfs only on pmem, for -o dax). */
  mkfs(r, step) {
    const a = step.args;
    if (a.fs === 'tmpfs') r.fail(step, 'mkfs tmpfs: tmpfs is mounted without mkfs');
    if (a.fs === 'xfs' && r.machine.devices.get(a.device)?.pmem === null) {
      r.fail(step, `mkfs xfs on ${a.device}: xfs is modelled only on pmem (mounted -o dax)`);
    }
    return { result: r.machine.mkfs(a.device, a.fs === 'xfs' ? 'xfs' : 'ext4', a.placement, a.xfs) };
  },
  /** mount(2), with the filesystem mkfs put on the device unless the step names one. */
  mount(r, step) {
    const a = step.args;
    const fs = a.fs ?? (a.device === undefined ? undefined : r.machine.devices.get(a.device)?.fs ?? undefined);
    if (fs === undefined) {
      return r.fail(step, `device ${a.device ?? '(none)'} has no filesystem; run mkfs first or give fs`);
    }
    if (fs === 'xfs' && !a.options.some((o) => o === 'dax' || o === 'dax=always')) {
      return r.fail(step, `mount ${a.target}: xfs is modelled only with -o dax`);
    }
    return { result: r.machine.mount(a.target, fs, a.device, a.options) };
  },
  /** umount(2): not modelled yet, so a scenario that uses it cannot run. */
  umount(r, step) {
    return r.fail(step, `${step.op} is not supported yet`);
  },
  /** mount(2) with MS_REMOUNT (and MS_RDONLY for ro) on a mounted target (src/fs/remount.ts). */
  remount(r, step) {
    return { result: r.machine.remount(step.args.target, step.args.mode === 'ro') };
  },
  /** A write to /proc/sys/vm/drop_caches: only the page cache is modelled, so 2 (slab only) drops nothing. */
  dropCaches(r, step) {
    return { result: step.args.value === 2 ? 0 : r.machine.dropCaches() };
  },
  /** A write to /sys/kernel/mm/.../fault_around_bytes (debugfs); a value the kernel refuses gives EINVAL. */
  setKnob(r, step) {
    const a = step.args;
    if (a.name !== 'faultAroundBytes') {
      return r.fail(step, `knob "${a.name}" cannot be changed at run time (only faultAroundBytes)`);
    }
    if (typeof a.value !== 'number') {
      return r.fail(step, `faultAroundBytes: expected a size, got ${JSON.stringify(a.value)}`);
    }
    try {
      r.machine.setFaultAroundBytes(a.value);
    } catch {
      return { result: -EINVAL };
    }
    return { result: 0 };
  },
};
