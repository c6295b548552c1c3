/**
 * Writing output files. Every file is written atomically: the bytes go to
 * `<file>.tmp-<pid>-<random>` in the same folder, which is then renamed over `<file>`, so a reader
 * never sees a half-written file. A write that fails removes its temporary file; SIGINT and SIGTERM
 * remove the temporary files of writes in flight (see `installSignalCleanup`). `writeFilesAtomic`
 * writes a set of files all or none. Folders are created as needed, and `checkWritableFolder` tells before any work is done whether they can be.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BacklightError } from '../errors.js';

/** Temporary files being written now (removed on SIGINT/SIGTERM). */
const pending = new Set<string>();

/** A short reason for a failed file-system call: its errno name and what it means. */
export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const meaning: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a part of the path is not a folder',
    EISDIR: 'it is a folder',
    EEXIST: 'it already exists',
    ENAMETOOLONG: 'the name is too long',
  };
  if (code) return meaning[code] ? `${meaning[code]} (${code})` : code;
  return (e as Error)?.message ?? String(e);
}

function tmpName(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Creates a folder and its parents; throws a BacklightError naming the folder. */
/** A file's bytes and their SHA-256 (hex), with a one-line error naming the file. */
export async function readHashed(file: string, what = 'model file'): Promise<{ bytes: Uint8Array; hash: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new BacklightError(`cannot read ${what} '${file}': ${fsReason(e)}`);
  }
  return { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
}

export async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new BacklightError(`cannot create output folder '${dir}': ${fsReason(e)}`);
  }
}

/** Writes `data` to `file` atomically (temporary file + rename), creating its folder. */
export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await makeFolder(dirname(file));
  const tmp = tmpName(file);
  pending.add(tmp);
  try {
    await writeFile(tmp, data, { flag: 'wx' });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new BacklightError(`cannot write '${file}': ${fsReason(e)}`);
  } finally {
    pending.delete(tmp);
  }
}

/** A file to write: its path and its bytes (or text). */
export interface FileToWrite {
  path: string;
  data: Uint8Array | string;
}

/**
 * Writes several files atomically one by one, all or none: when one write fails, the files this
 * call wrote already are removed again before the error is rethrown (a file it replaced is gone
 * too: the set stays consistent rather than half old, half new).
 */
export async function writeFilesAtomic(files: readonly FileToWrite[]): Promise<void> {
  const done: string[] = [];
  try {
    for (const f of files) {
      await writeFileAtomic(f.path, f.data);
      done.push(f.path);
    }
  } catch (e) {
    for (const path of done) await rm(path, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Checks, without leaving anything behind, that `dir` exists as a writable folder or can be
 * created: the nearest existing ancestor must be a folder where a file can be created (probed by
 * creating and removing one, which also catches read-only mounts and ACLs).
 */
export async function checkWritableFolder(dir: string, what = 'output folder'): Promise<void> {
  let p = resolve(dir);
  for (;;) {
    let isDir: boolean;
    try {
      isDir = (await stat(p)).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const parent = dirname(p);
        if (parent === p) throw new BacklightError(`cannot create ${what} '${dir}': ${fsReason(e)}`);
        p = parent;
        continue;
      }
      throw new BacklightError(`cannot use ${what} '${dir}': ${fsReason(e)}`);
    }
    if (!isDir) {
      const where = p === resolve(dir) ? 'it is a file, not a folder' : `'${p}' is a file, not a folder`;
      throw new BacklightError(`cannot create ${what} '${dir}': ${where}`);
    }
    const probe = join(p, `.backlight-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(probe, '', { flag: 'wx' });
    } catch (e) {
      const where = p === resolve(dir) ? '' : ` (in '${p}')`;
      throw new BacklightError(`cannot write to ${what} '${dir}'${where}: ${fsReason(e)}`);
    }
    await unlink(probe).catch(() => undefined);
    return;
  }
}

/** Removes the temporary files of writes in flight (synchronously: safe in a signal handler). */
export function removePendingSync(): void {
  for (const tmp of pending) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing more can be done while exiting
    }
  }
  pending.clear();
}
