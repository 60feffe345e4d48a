// Runs encoded scenarios in QEMU guests (TCG: no KVM here) booting Debian's kernel packages,
// with 1 GiB of emulated persistent memory (memmap=1G!4G -> /dev/pmem0) and a virtio disk. One
// boot runs a batch: the initramfs carries busybox, mkfs tools, the kernel's modules, the static
// runner and the encoded scenarios; /init (guest-init.sh) prints each run's JSON lines between
// @@RUN markers. Tools are installed with apt-get and kernels downloaded with a sources list of
// our own, all on first use, into the cache directory.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync,
  chmodSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OracleSetupError, cacheDir, progress, runnerBinary } from './build.ts';
import { parseRunnerOutput, type RealRun } from './host.ts';
import { lostEvents, runnerLines } from './trace-compare.ts';

/** Debian suite of each guest kernel version. */
export const GUEST_KERNELS: Record<string, string> = {
  '5.10': 'bullseye', '6.1': 'bookworm', '6.12': 'trixie', '7.2': 'forky',
};
/**
 * read_ahead_kb of each guest's virtio disk (/sys/block/vda/queue, printed by guest-init.sh as
 * @@QUEUE on every boot): the model's ext4 devices get it, as the host's disk value on the host.
 * Measured with QEMU's default virtio-blk (optimal_io_size 0): 8192 on 7.2 (twice its
 * max_sectors_kb of 4096; the block-layer rule behind it is not traced), VM_READAHEAD_PAGES'
 * 128 on the older guests (6.12: max_sectors_kb 1280, read_ahead_kb 128).
 */
export const GUEST_READ_AHEAD_KB: Record<string, number> = { '5.10': 128, '6.1': 128, '6.12': 128, '7.2': 8192 };
const MIRROR = 'http://deb.debian.org/debian';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
const INIT = join(dirname(fileURLToPath(import.meta.url)), 'guest-init.sh');
const MODULES = ['nd_e820', 'nd_pmem', 'crc32c_generic', 'ext4', 'xfs', 'virtio_pci', 'virtio_blk'];

function sh(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error || r.status !== 0) {
    throw new OracleSetupError(`${what} failed: ${cmd} ${args.join(' ')}\n${r.stderr ?? r.error}`);
  }
  return r.stdout;
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

/** Installs QEMU, busybox-static, e2fsprogs, xfsprogs, cpio, kmod, xz when missing (apt-get, with a progress line). */
export function ensureGuestTools(): void {
  const need: string[] = [];
  if (!have('qemu-system-x86_64')) need.push('qemu-system-x86');
  const bb = spawnSync('sh', ['-c', 'file -L /bin/busybox'], { encoding: 'utf8' }).stdout ?? '';
  if (!/statically linked/.test(bb)) need.push('busybox-static');
  if (!have('mkfs.ext4')) need.push('e2fsprogs');
  if (!have('mkfs.xfs')) need.push('xfsprogs');
  if (!have('cpio')) need.push('cpio');
  if (!have('modprobe')) need.push('kmod');
  if (!have('xz')) need.push('xz-utils');
  if (!have('zstd')) need.push('zstd');
  if (need.length === 0) return;
  progress(`installing ${need.join(' ')} (apt-get install)`);
  const r = spawnSync('apt-get', ['install', '-y', ...need], { stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    throw new OracleSetupError(`the guests need ${need.join(', ')}: run apt-get install ${need.join(' ')}`);
  }
}

function aptOpts(): string[] {
  const d = join(cacheDir(), 'apt');
  mkdirSync(join(d, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(d, 'cache', 'archives', 'partial'), { recursive: true });
  const list = Object.values(GUEST_KERNELS).map((s) => `deb [signed-by=${KEYRING}] ${MIRROR} ${s} main`).join('\n');
  writeFileSync(join(d, 'sources.list'), `${list}\n`);
  return ['-o', `Dir::Etc::sourcelist=${join(d, 'sources.list')}`, '-o', 'Dir::Etc::sourceparts=-',
    '-o', `Dir::State::Lists=${join(d, 'lists')}`, '-o', `Dir::Cache=${join(d, 'cache')}`];
}

/** The kernel image package of `ver` in its suite (the linux-image-amd64 metapackage's dependency). */
function imagePackage(ver: string, opts: string[]): string {
  const lists = join(cacheDir(), 'apt', 'lists');
  if (!readdirSync(lists).some((f) => f.includes(GUEST_KERNELS[ver]!))) {
    progress(`apt-get update (sources list in ${join(cacheDir(), 'apt')})`);
    sh('apt-get', [...opts, 'update'], 'apt-get update');
  }
  const policy = sh('apt-cache', [...opts, 'madison', 'linux-image-amd64'], 'apt-cache madison');
  const suite = GUEST_KERNELS[ver]!;
  const line = policy.split('\n').find((l) => l.includes(`${MIRROR} ${suite}/`) || l.includes(` ${suite}/main`));
  const v = line?.split('|')[1]?.trim();
  if (!v) throw new OracleSetupError(`no linux-image-amd64 in ${GUEST_KERNELS[ver]}`);
  const deps = sh('apt-cache', [...opts, 'depends', `linux-image-amd64=${v}`], 'apt-cache depends');
  const m = /Depends: (linux-image-\S+)/.exec(deps);
  if (!m) throw new OracleSetupError(`linux-image-amd64=${v} names no kernel image`);
  return m[1]!;
}

function download(pkgs: string[], dir: string, opts: string[]): boolean {
  const r = spawnSync('apt-get', [...opts, 'download', ...pkgs], { cwd: dir, encoding: 'utf8' });
  return r.status === 0;
}

/** The kernel image of an unpacked package: /boot/vmlinuz-REL, or /usr/lib/modules/REL/vmlinuz (forky on). */
function kernelImage(root: string): { vmlinuz: string; release: string } | null {
  const boot = join(root, 'boot');
  const img = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
  if (img !== undefined) return { vmlinuz: join(boot, img), release: img.slice('vmlinuz-'.length) };
  const mods = join(root, 'usr', 'lib', 'modules');
  const rel = existsSync(mods) ? readdirSync(mods).find((r) => existsSync(join(mods, r, 'vmlinuz'))) : undefined;
  return rel === undefined ? null : { vmlinuz: join(mods, rel, 'vmlinuz'), release: rel };
}

export interface GuestKernel { version: string; vmlinuz: string; release: string; root: string }

/** Downloads and unpacks Debian's kernel `ver` (5.10, 6.1, 6.12, 7.2) on first use. */
export function ensureKernel(ver: string): GuestKernel {
  if (GUEST_KERNELS[ver] === undefined) {
    throw new OracleSetupError(`no guest kernel ${ver} (known: ${Object.keys(GUEST_KERNELS).join(', ')})`);
  }
  const dir = join(cacheDir(), 'kernels', ver);
  const root = join(dir, 'root');
  const found = (): GuestKernel | null => {
    const img = kernelImage(root);
    if (img === null) return null;
    const ok = existsSync(join(root, 'lib', 'modules', img.release, 'modules.dep'));
    return ok ? { version: ver, vmlinuz: img.vmlinuz, release: img.release, root } : null;
  };
  const done = found();
  if (done) return done;
  mkdirSync(dir, { recursive: true });
  const opts = aptOpts();
  const pkg = imagePackage(ver, opts);
  progress(`downloading ${pkg} (Debian ${GUEST_KERNELS[ver]}) into ${dir}`);
  if (!download([`${pkg}-unsigned`], dir, opts) && !download([pkg], dir, opts)) {
    throw new OracleSetupError(`apt-get download ${pkg} failed (is ${MIRROR} reachable?)`);
  }
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) {
    const deps = sh('dpkg-deb', ['-f', join(dir, deb), 'Depends'], 'dpkg-deb -f');
    const split = [...deps.matchAll(/(linux-(?:binary|modules)-[^\s,(]+)/g)].map((x) => x[1]!);
    if (split.length > 0 && !download(split, dir, opts)) {
      throw new OracleSetupError(`apt-get download ${split.join(' ')} failed`);
    }
  }
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) {
    sh('dpkg-deb', ['-x', join(dir, deb), root], 'dpkg-deb -x');
  }
  // Merged-/usr packages (trixie on) keep the modules in /usr/lib/modules: depmod and modprobe -d look in /lib.
  if (!existsSync(join(root, 'lib', 'modules')) && existsSync(join(root, 'usr', 'lib', 'modules'))) {
    mkdirSync(join(root, 'lib'), { recursive: true });
    symlinkSync('../usr/lib/modules', join(root, 'lib', 'modules'));
  }
  const img = kernelImage(root);
  if (img === null) throw new OracleSetupError(`${pkg} holds no vmlinuz`);
  const release = img.release;
  if (!existsSync(join(root, 'lib', 'modules', release, 'modules.dep'))) sh('depmod', ['-b', root, release], 'depmod');
  const k = found();
  if (!k) throw new OracleSetupError(`kernel ${ver}: unpacked, but no modules for ${release}`);
  return k;
}

/** Copies `bin` and the shared libraries it needs into the initramfs tree. */
function copyDynamic(bin: string, tree: string): void {
  copyFileSync(bin, join(tree, 'sbin', bin.split('/').pop()!));
  chmodSync(join(tree, 'sbin', bin.split('/').pop()!), 0o755);
  const ldd = sh('ldd', [bin], `ldd ${bin}`);
  for (const m of ldd.matchAll(/(\/\S+\.so[^\s]*)/g)) {
    const lib = m[1]!;
    const dest = lib.includes('ld-linux') ? join(tree, 'lib64') : join(tree, 'lib', 'x86_64-linux-gnu');
    copyFileSync(lib, join(dest, lib.split('/').pop()!));
  }
}

/**
 * The base initramfs of kernel k (busybox, mkfs tools, modules, runner, /init), built once per
 * runner version and /init script (an edited guest-init.sh gets a new initramfs).
 */
function baseInitramfs(k: GuestKernel): string {
  const runner = runnerBinary();
  const init = createHash('sha256').update(readFileSync(INIT)).digest('hex').slice(0, 8);
  const out = join(cacheDir(), 'kernels', k.version, `initramfs-${runner.split('-').pop()}-${init}.cpio.gz`);
  if (existsSync(out)) return out;
  progress(`building the initramfs for ${k.release}`);
  const tree = join(cacheDir(), 'kernels', k.version, 'initramfs.root');
  rmSync(tree, { recursive: true, force: true });
  const dirs = ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'mnt', 'tmp', 'scen', 'lib/modules', 'lib64',
    'lib/x86_64-linux-gnu'];
  for (const d of dirs) {
    mkdirSync(join(tree, d), { recursive: true });
  }
  copyFileSync('/bin/busybox', join(tree, 'bin', 'busybox'));
  chmodSync(join(tree, 'bin', 'busybox'), 0o755);
  copyFileSync(runner, join(tree, 'bin', 'daxsim-runner'));
  chmodSync(join(tree, 'bin', 'daxsim-runner'), 0o755);
  copyFileSync(INIT, join(tree, 'init'));
  chmodSync(join(tree, 'init'), 0o755);
  copyDynamic('/usr/sbin/mke2fs', tree);
  copyDynamic('/usr/sbin/mkfs.xfs', tree);
  execFileSync('ln', ['-sf', 'mke2fs', join(tree, 'sbin', 'mkfs.ext4')]);
  copyFileSync('/etc/mke2fs.conf', join(tree, 'etc', 'mke2fs.conf'));
  const order: string[] = [];
  for (const m of MODULES) {
    const r = spawnSync('modprobe', ['-d', k.root, '-S', k.release, '--show-depends', m], { encoding: 'utf8' });
    for (const l of (r.stdout ?? '').split('\n')) {
      const mm = /^insmod (\S+)/.exec(l);
      if (mm && !order.includes(mm[1]!)) order.push(mm[1]!);
    }
  }
  const names: string[] = [];
  for (const p of order) {
    const base = p.split('/').pop()!.replace(/\.(xz|zst|gz)$/, '');
    const dest = join(tree, 'lib', 'modules', base);
    if (p.endsWith('.xz')) writeFileSync(dest, execFileSync('xz', ['-dc', p], { maxBuffer: 1 << 28 }));
    else if (p.endsWith('.zst')) writeFileSync(dest, execFileSync('zstd', ['-dcq', p], { maxBuffer: 1 << 28 }));
    else copyFileSync(p, dest);
    names.push(base);
  }
  writeFileSync(join(tree, 'modules.list'), `${names.join('\n')}\n`);
  writeFileSync(out, cpioGz(tree));
  return out;
}

function cpioGz(tree: string): Buffer {
  const cmd = 'find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6';
  return execFileSync('sh', ['-c', cmd], { cwd: tree, maxBuffer: 1 << 30 });
}

/** One scenario of a batch: its encoded text and the filesystems /init must make for it. */
/** xfsArgs: extra mkfs.xfs arguments; tmpfsArgs: the tmpfs mount's size options (default size=2g). */
export interface GuestJob { id: string; text: string; kinds: string[]; xfsArgs?: string; tmpfsArgs?: string }

/** The real directory a mount target gets in the guest: /mnt/KIND/mN (N: its position among the scenario's mounts). */
export function guestDir(kind: string, n: number): string {
  return `/mnt/${kind}/m${n}`;
}

/**
 * Boots kernel `ver` once for the whole batch and returns each job's run (or the reason it has none).
 * `traceEvents` (tracefs events/ paths) are recorded around each run into RealRun.trace.
 */
export function runBatch(ver: string, jobs: GuestJob[],
  traceEvents: string[] = []): Map<string, RealRun | OracleSetupError> {
  ensureGuestTools();
  const k = ensureKernel(ver);
  const base = baseInitramfs(k);
  const work = join(cacheDir(), 'kernels', ver, 'batch');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'tree', 'scen'), { recursive: true });
  for (const j of jobs) {
    writeFileSync(join(work, 'tree', 'scen', `${j.id}.run`), j.text);
    writeFileSync(join(work, 'tree', 'scen', `${j.id}.fs`), `${j.kinds.join(' ')}\n`);
    writeFileSync(join(work, 'tree', 'scen', `${j.id}.xfs`), `${j.xfsArgs ?? ''}\n`);
    writeFileSync(join(work, 'tree', 'scen', `${j.id}.tmpfs`), `${j.tmpfsArgs ?? ''}\n`);
  }
  // xfs_io rides in the batch (when the host has it) for the @@BMAP dumps of xfs files.
  if (existsSync('/usr/sbin/xfs_io')) {
    for (const d of ['sbin', 'lib64', 'lib/x86_64-linux-gnu']) mkdirSync(join(work, 'tree', d), { recursive: true });
    copyDynamic('/usr/sbin/xfs_io', join(work, 'tree'));
  }
  // /init rides in the batch too (later cpio entries win), so an edited init needs no new base image.
  copyFileSync(INIT, join(work, 'tree', 'init'));
  chmodSync(join(work, 'tree', 'init'), 0o755);
  if (traceEvents.length > 0) writeFileSync(join(work, 'tree', 'scen', 'trace.events'), `${traceEvents.join('\n')}\n`);
  const initrd = join(work, 'initrd.cpio.gz');
  writeFileSync(initrd, Buffer.concat([readFileSync(base), cpioGz(join(work, 'tree'))]));
  const disk = join(work, 'vdisk.img');
  closeSync(openSync(disk, 'w'));
  spawnSync('truncate', ['-s', '2G', disk]);
  const con = join(work, 'console.log');
  const fd = openSync(con, 'w');
  progress(`booting ${k.release} (QEMU TCG, pmem memmap=1G!4G) for ${jobs.length} scenario(s); console: ${con}`);
  const t0 = Date.now();
  const r = spawnSync('qemu-system-x86_64', ['-accel', 'tcg,thread=multi', '-machine', 'pc', '-cpu', 'max,-la57',
    '-m', '6G', '-smp', '2', '-nographic', '-no-reboot', '-kernel', k.vmlinuz, '-initrd', initrd,
    '-drive', `file=${disk},format=raw,if=virtio,cache=unsafe`,
    '-append', 'console=ttyS0 loglevel=1 panic=-1 memmap=1G!4G'],
  { stdio: ['ignore', fd, fd], timeout: 60 * 60 * 1000, killSignal: 'SIGKILL' });
  closeSync(fd);
  const why = r.error ? ` (${r.error.message})` : '';
  progress(`guest ${k.release} finished after ${Math.round((Date.now() - t0) / 1000)} s${why}`);
  const log = readFileSync(con, 'utf8');
  const ra = /@@QUEUE vda read_ahead_kb=(\d+)/.exec(log)?.[1];
  if (ra !== undefined && Number(ra) !== GUEST_READ_AHEAD_KB[ver]) {
    progress(`warning: the ${ver} guest's vda has read_ahead_kb ${ra}, the model was given ` +
      `${GUEST_READ_AHEAD_KB[ver]} (GUEST_READ_AHEAD_KB in src/oracle/guest.ts): readahead figures may differ`);
  }
  return parseConsole(log, jobs, `${k.release} guest`);
}

/** Splits the console log into each job's runner output (between @@RUN id BEGIN and END). */
export function parseConsole(log: string, jobs: GuestJob[], what: string): Map<string, RealRun | OracleSetupError> {
  const out = new Map<string, RealRun | OracleSetupError>();
  const text = log.replace(/\r/g, '');
  for (const j of jobs) {
    const b = text.indexOf(`@@RUN ${j.id} BEGIN`);
    const e = text.indexOf(`@@RUN ${j.id} END`, b);
    const failed = new RegExp(`@@RUN ${j.id} SETUP-FAILED (\\S+)`).exec(text);
    if (failed) out.set(j.id, new OracleSetupError(`${what}: could not make ${failed[1]}`));
    else if (b < 0 || e < 0) {
      out.set(j.id, new OracleSetupError(`${what}: no complete output for ${j.id} (see the console log)`));
    }
    else {
      try {
        const run = parseRunnerOutput(text.slice(b, e), `${j.id} on ${what}`);
        const trace = traceSection(text, j.id);
        if (trace !== null) run.trace = runnerLines(trace);
        if (trace !== null && lostEvents(trace)) run.warnings.push('tracing: the ring buffer overflowed');
        for (const m of text.matchAll(/@@TRACE-WARN (.*)/g)) run.warnings.push(`tracing: ${m[1]!}`);
        out.set(j.id, run);
      } catch (err) {
        out.set(j.id, err instanceof OracleSetupError ? err : new OracleSetupError(String(err)));
      }
    }
  }
  return out;
}

/** The trace text /init printed for job `id` between @@TRACE id BEGIN and END, or null when none. */
function traceSection(text: string, id: string): string[] | null {
  const b = text.indexOf(`@@TRACE ${id} BEGIN\n`);
  const e = text.indexOf(`@@TRACE ${id} END`, b);
  if (b < 0 || e < 0) return null;
  return text.slice(b + `@@TRACE ${id} BEGIN\n`.length, e).split('\n').filter((l) => l !== '');
}
