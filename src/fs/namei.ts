/**
 * Path resolution as the VFS does it (fs/namei.c link_path_walk, walk_component, handle_dots and
 * path_openat's last component, 6.1 and 6.18) over the model's namespace: the directories are /,
 * the mount points and the directories above them; each mount holds regular files only (no
 * subdirectories). Empty components (`//`) and `.` are skipped, `..` goes up (above / stays at /),
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
