/**
 * Path resolution as the VFS does it (fs/namei.c link_path_walk, walk_component, handle_dots and
 * path_openat's last component, 6.1 and 6.18) over the model's namespace: the directories are /,
 * the mount points and the directories above them; each mount holds regular files only (no
 * subdirectories). Empty components (`//`) and `.` are skipped, `..` goes up (above / stays at /)
 * from a directory the walk reached (every component before it must exist and be a directory),
 * a file used as a directory is ENOTDIR, a missing directory ENOENT, and a trailing slash on the
 * last component demands a directory (ENOTDIR for an existing file; for a new name the caller
 * decides: open with O_CREAT gives EISDIR, as do_last/open_last_lookups does).
 */
import type { Vfs } from './vfs.ts';
import type { SuperBlock } from './fs.ts';
import { ENOENT, ENOTDIR, ENAMETOOLONG } from '../lib/errno.ts';

export interface Lookup { sb: SuperBlock | null; name: string; dir: boolean; trailingSlash: boolean }

/** PATH_MAX (include/uapi/linux/limits.h) and NAME_MAX: longer paths or names are ENAMETOOLONG. */
const PATH_MAX = 4096, NAME_MAX = 255;

function isDir(vfs: Vfs, p: string): boolean {
  if (p === '/') return true;
  return vfs.mounts.some((m) => m.mountPoint === p || m.mountPoint.startsWith(p + '/'));
}

/** The mount holding the file `p` (a path with no trailing slash), and its name there. */
function fileIn(vfs: Vfs, p: string): { sb: SuperBlock; name: string } | null {
  for (const sb of vfs.mounts) {
    const mp = sb.mountPoint.endsWith('/') ? sb.mountPoint : sb.mountPoint + '/';
    if (p.startsWith(mp) && !p.slice(mp.length).includes('/')) return { sb, name: p.slice(mp.length) };
  }
  return null;
}

/** Resolve `path`: the file's mount and name (name '' and dir true for a directory), or -errno. */
export function lookupPath(vfs: Vfs, path: string): Lookup | number {
  if (typeof path !== 'string' || path.length === 0) return -ENOENT;
  if (path.length >= PATH_MAX) return -ENAMETOOLONG;
  const comps = path.split('/').filter((c) => c !== '' && c !== '.');
  const trailingSlash = /\/\.?$/.test(path) && comps.length > 0;
  let cur = '/';
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    if (c.length > NAME_MAX) return -ENAMETOOLONG;
    if (c === '..') { cur = cur === '/' ? '/' : cur.slice(0, cur.lastIndexOf('/')) || '/'; continue; }
    const next = cur === '/' ? `/${c}` : `${cur}/${c}`;
    if (i < comps.length - 1 && !isDir(vfs, next)) {
      const f = fileIn(vfs, next);
      return f && f.sb.inodes.has(f.name) ? -ENOTDIR : -ENOENT;
    }
    cur = next;
  }
  if (isDir(vfs, cur)) return { sb: null, name: '', dir: true, trailingSlash };
  const f = fileIn(vfs, cur);
  if (!f) return -ENOENT;
  if (trailingSlash && f.sb.inodes.has(f.name)) return -ENOTDIR;
  return { sb: f.sb, name: f.name, dir: false, trailingSlash };
}

/**
 * link_path_walk's check of the components walked so far, `comps` from /: each must exist (ENOENT)
 * and be a directory (ENOTDIR), a directory of the namespace above the mounts or an inode of the
 * mount holding it. Returns 0 or -errno.
 */
function walkedDirErr(vfs: Vfs, comps: readonly string[]): number {
  let p = '';
  for (const c of comps) {
    p = `${p}/${c}`;
    if (isDir(vfs, p)) continue;
    const r = vfs.resolve(p);
    const inode = r === null ? undefined : r.sb.inodes.get(r.name);
    if (inode === undefined) return -ENOENT;
    if (!inode.isDir) return -ENOTDIR;
  }
  return 0;
}

/**
 * The path walk for the syscalls (link_path_walk and the last component, 6.1 and 6.18), over
 * both halves of the model's namespace: lexical steps first (`//` and `.` skipped, `..` up once
 * what precedes it is found to be directories, a trailing slash kept as "must be a directory"),
 * then the mount holding the result. A mount point itself is its root directory (name ''); a
 * directory above every mount (`/`, the parents of mount points) has no superblock (sb null).
 * Inside a mount, directories are inodes
 * (src/fs/dirs.ts): the caller checks the components before the last with walkParents.
 */
export function resolvePath(vfs: Vfs, path: string): { sb: SuperBlock | null; name: string } | number {
  if (typeof path !== 'string' || path.length === 0) return -ENOENT;
  if (path.length >= PATH_MAX) return -ENAMETOOLONG;
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c.length > NAME_MAX) return -ENAMETOOLONG;
    if (c === '..') {
      // handle_dots: `..` is a step up from a directory the walk reached, so every component
      // walked so far must exist and be a directory (/t/nodir/../f is ENOENT, not /t/f).
      const err = walkedDirErr(vfs, out);
      if (err < 0) return err;
      out.pop();
    } else out.push(c);
  }
  const abs = '/' + out.join('/');
  const slash = /\/\.?$/.test(path) && out.length > 0 ? '/' : '';
  for (const sb of vfs.mounts) if (sb.mountPoint.replace(/\/+$/, '') === abs) return { sb, name: '' };
  if (isDir(vfs, abs)) return { sb: null, name: '' };
  const r = vfs.resolve(abs + slash);
  return r === null ? -ENOENT : { sb: r.sb, name: r.name };
}
