// Directories as inodes (fs/namei.c path walk, do_mkdirat, do_open; v6.1, unchanged in 6.18):
// the model keeps each filesystem's names flat ("a/b" under its mount), and a directory is an
// inode with S_IFDIR whose name is a prefix of its entries'. The mount root always exists.

import { EEXIST, EISDIR, ENOENT, ENOTDIR, EROFS } from '../lib/errno.ts';
import type { Kernel } from '../kernel/kernel.ts';
import { Inode, type SuperBlock } from './fs.ts';
import { O_ACCMODE, O_CREAT, O_TRUNC } from '../mm/constants.ts';

/**
 * The path walk's checks on the components before the last (link_path_walk): each must exist
 * (ENOENT) and be a directory (ENOTDIR). `name` is relative to the mount, without a trailing slash.
 */
export function walkParents(sb: SuperBlock, name: string): number {
  const parts = name.split('/');
  let prefix = '';
  for (let i = 0; i < parts.length - 1; i++) {
    prefix = prefix === '' ? parts[i]! : `${prefix}/${parts[i]!}`;
    const d = sb.inodes.get(prefix);
    if (d === undefined) return -ENOENT;
    if (!d.isDir) return -ENOTDIR;
  }
  return 0;
}

/**
 * open(2) of a name that may be a directory (do_open / may_open, fs/namei.c): a directory opens
 * for reading only (EISDIR with write access, O_CREAT or O_TRUNC); a trailing slash needs a
 * directory (ENOTDIR on a file, EISDIR with O_CREAT on a name that does not exist). Returns the
 * directory inode to open, null to go on with a regular file, or -errno.
 */
export function openDirCheck(k: Kernel, sb: SuperBlock, name: string, flags: number): Inode | null | number {
  const slash = name.endsWith('/') || name === '';
  const bare = name.replace(/\/+$/, '');
  const parents = bare === '' ? 0 : walkParents(sb, bare);
  if (parents < 0) return parents;
  const inode = bare === '' ? rootOf(k, sb) : sb.inodes.get(bare);
  if (inode === undefined) return slash ? ((flags & O_CREAT) !== 0 ? -EISDIR : -ENOENT) : null;
  if (!inode.isDir) return slash ? -ENOTDIR : null;
  if ((flags & O_CREAT) !== 0 || (flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0) return -EISDIR;
  return inode;
}

/** The root directory inode of a mount, made on first use. */
function rootOf(k: Kernel, sb: SuperBlock): Inode {
  let root = sb.inodes.get('');
  if (root === undefined) {
    root = new Inode(k.allocIno(), sb);
    root.isDir = true;
    sb.inodes.set('', root);
  }
  return root;
}

/** mkdir(2) (do_mkdirat, fs/namei.c): EEXIST when the name exists, the parents' errno, else a new directory inode. */
export function sysMkdir(k: Kernel, path: string): number {
  const r = k.vfs.resolve(path.endsWith('/') ? path : `${path}/`);
  if (!r) return -ENOENT;
  const name = r.name.replace(/\/+$/, '');
  if (name === '' || r.sb.inodes.has(name)) return -EEXIST;
  const parents = walkParents(r.sb, name);
  if (parents < 0) return parents;
  if (r.sb.readOnly) return -EROFS; // filename_create: mnt_want_write's error after EEXIST
  const inode = new Inode(k.allocIno(), r.sb);
  inode.isDir = true;
  r.sb.inodes.set(name, inode);
  return 0;
}

/**
 * stat(2) of a directory: ext4 gives one 4 KiB block (ext4_mkdir's first block); tmpfs a bogus
 * size of 20 bytes per entry plus two (BOGO_DIRENT_SIZE, shmem_mknod) and no blocks.
 */
export function dirStat(sb: SuperBlock, name: string, ino: number): { sizeBytes: number; blocks: number; ino: number } {
  if (sb.fs.typeName !== 'tmpfs') return { sizeBytes: 4096, blocks: 8, ino };
  const prefix = name === '' ? '' : `${name}/`;
  let entries = 0;
  for (const n of sb.inodes.keys()) {
    if (n !== '' && n.startsWith(prefix) && !n.slice(prefix.length).includes('/')) entries++;
  }
  return { sizeBytes: 20 * (entries + 2), blocks: 0, ino };
}
