/**
 * How the commands write into an output folder (`--out`): the one place for that discipline, used
 * by `explain`, `eval` and `demo` (docs/design/output-discipline.md).
 *
 * - A lock, `<out>/.backlight.lock` (pid, host, start time, command), taken by an exclusive
 *   create (a hard link of a complete temporary file, so the lock is never seen half-written); a
 *   second run into the same folder is refused in one line naming the other process; a lock left by
 *   a process that is gone (same host) is taken over with a note.
 * - Temporaries are named `.backlight-tmp-<pid>-<hex>` (folders and files) or `<file>.tmp-<pid>-<hex>`
 *   (single files written atomically); sets being replaced are moved to `.backlight-old-<pid>-<hex>`.
 *   Whoever holds the lock sweeps those of other processes at start: they are from runs that ended
 *   without cleaning up (killed with SIGKILL, or a crash).
 * - A set of files (an input's results) is written into a temporary folder, then renamed into place
 *   (an older set of the same name is renamed away first, and removed after): it appears whole or
 *   not at all.
 * - SIGINT/SIGTERM remove the temporaries of this process and its lock, then exit 130/143
 *   (`installSignalCleanup`).
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, rm, rmdir, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { BacklightError } from '../errors.js';
import { fsReason, removePendingSync, writeFileAtomic } from '../io/files.js';

export const LOCK_FILE = '.backlight.lock';
export const TMP_PREFIX = '.backlight-tmp-';
export const OLD_PREFIX = '.backlight-old-';
/** `<file>.tmp-<pid>-<hex>`: a single file being written atomically (src/io/files.ts). */
const FILE_TMP = /\.tmp-(\d+)-[0-9a-f]{8}$/;
/** `.backlight-tmp-<pid>-<hex>` and `.backlight-old-<pid>-<hex>` (with any suffix). */
const OWN_TMP = /^\.backlight-(?:tmp|old)-(\d+)-[0-9a-f]+/;
/** `.backlight-old-<pid>-<hex>-<set name>`: a set renamed away while its replacement moves in. */
const OLD_SET = /^\.backlight-old-\d+-[0-9a-f]{8}-(.+)$/;

/** What the lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the run started. */
  started: string;
  command: string;
}

/** Folders opened by this process, cleaned up synchronously on SIGINT/SIGTERM. */
const open_ = new Set<OutputDir>();

/**
 * Steps that must not be cut by SIGINT/SIGTERM (a set's two renames and the summary rewritten
 * after them): a signal that arrives meanwhile is acted on when they end (milliseconds).
 */
let critical = 0;
let deferredExit: number | null = null;

function exitNow(code: number): never {
  removePendingSync();
  releaseAllSync();
  process.exit(code);
}

function tag(): string {
  return `${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Whether a process of this host is alive (EPERM: alive, owned by another user). */
export function processAlive(pid: number): boolean {
  if (!(Number.isInteger(pid) && pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function parseLock(text: string): LockInfo | null {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.started === 'string') return { pid: o.pid, host: o.host, started: o.started, command: String(o.command ?? '') };
  } catch {
    // a lock that is not ours or was damaged: treated as stale below
  }
  return null;
}

export interface OpenOptions {
  /** The command line, recorded in the lock (shown to a second run). */
  command: string;
  /** Notes (one line each): a stale lock taken over, temporaries swept. */
  note?: (line: string) => void;
}

/**
 * An output folder held by this process: created if needed (and removed again on release when this
 * run created it and left nothing in it), locked, swept.
 */
export class OutputDir {
  private readonly temps = new Set<string>();
  private released = false;

  private constructor(
    readonly root: string,
    private readonly lock: string,
    private readonly created: boolean,
  ) {}

  /** Creates (if needed), locks and sweeps `dir`. */
  static async open(dir: string, options: OpenOptions): Promise<OutputDir> {
    const root = resolve(dir);
    const created = !(await exists(root));
    try {
      await mkdir(root, { recursive: true });
    } catch (e) {
      throw new BacklightError(`cannot create output folder '${dir}': ${fsReason(e)}`);
    }
    let lock: string;
    try {
      lock = await takeLock(root, dir, options);
    } catch (e) {
      if (created) await rmdir(root).catch(() => undefined);
      throw e;
    }
    const od = new OutputDir(root, lock, created);
    open_.add(od);
    const swept = await sweep(root);
    if (swept > 0) options.note?.(`removed ${swept} temporar${swept === 1 ? 'y' : 'ies'} left in '${dir}' by an interrupted run`);
    return od;
  }

  /** A new temporary folder inside the output folder (removed on release and on SIGINT/SIGTERM). */
  async tempFolder(): Promise<string> {
    const p = join(this.root, `${TMP_PREFIX}${tag()}`);
    this.temps.add(p);
    await mkdir(p);
    return p;
  }

  /** Removes a temporary folder or file of this run. */
  async discard(temp: string): Promise<void> {
    await rm(temp, { recursive: true, force: true });
    this.temps.delete(temp);
  }

  /**
   * Writes `files` (names relative to the set's folder) as the set `name` (a folder in the output
   * folder): into a temporary folder first, then renamed into place, replacing an older set of the
   * same name. `keep` names files of the older set that stay in the new one (hard-linked, or copied).
   */
  async writeSet(name: string, files: ReadonlyArray<{ name: string; data: Uint8Array | string }>, keep: readonly string[] = [], after?: () => Promise<void>): Promise<void> {
    const tmp = await this.tempFolder();
    const target = join(this.root, name);
    try {
      for (const f of files) {
        const p = join(tmp, f.name);
        await mkdir(join(p, '..'), { recursive: true });
        await writeFile(p, f.data, { flag: 'wx' });
      }
      for (const k of keep) {
        const from = join(target, k);
        await mkdir(join(tmp, k, '..'), { recursive: true });
        await link(from, join(tmp, k)).catch(async () => writeFile(join(tmp, k), await readFile(from), { flag: 'wx' }));
      }
    } catch (e) {
      await this.discard(tmp);
      throw new BacklightError(`cannot write the files of '${target}': ${fsReason(e)}`);
    }
    // The swap and what describes it (`after`: summary.json) are not cut by SIGINT/SIGTERM.
    critical++;
    let old: string | null;
    try {
      old = await this.swapInto(tmp, target);
      await after?.();
    } finally {
      critical--;
      if (critical === 0 && deferredExit !== null) exitNow(deferredExit);
    }
    if (old) await this.discard(old);
  }

  /** Renames `tmp` to `target`; an older `target` is renamed away first: returns where (to remove), or null. */
  private async swapInto(tmp: string, target: string): Promise<string | null> {
    // The set's name is in the old folder's: a sweep puts it back if the new one never arrived.
    const old = join(this.root, `${OLD_PREFIX}${tag()}-${basename(target)}`);
    let moved = false;
    try {
      this.temps.add(old);
      try {
        await rename(target, old);
        moved = true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      await rename(tmp, target);
      this.temps.delete(tmp);
    } catch (e) {
      // Put the older set back: the folder stays as it was.
      if (moved) await rename(old, target).catch(() => undefined);
      await this.discard(tmp);
      this.temps.delete(old);
      throw new BacklightError(`cannot move the files into '${target}': ${fsReason(e)}`);
    }
    if (!moved) this.temps.delete(old);
    return moved ? old : null;
  }

  /** Writes one file of the output folder atomically (a temporary file renamed over it; swept as any other). */
  async writeFile(name: string, data: Uint8Array | string): Promise<void> {
    await writeFileAtomic(join(this.root, name), data);
  }


  /**
   * Moves every file of a staged folder into the output folder (sub-folders created as needed), each
   * by one rename: for outputs made of several top-level files (the demo).
   */
  async moveAllInto(staged: string, names: readonly string[]): Promise<void> {
    for (const n of names) {
      const to = join(this.root, n);
      try {
        await mkdir(join(to, '..'), { recursive: true });
        await rename(join(staged, n), to);
      } catch (e) {
        throw new BacklightError(`cannot move '${n}' into '${this.root}': ${fsReason(e)}`);
      }
    }
    await this.discard(staged);
  }

  /** Removes this run's temporaries and the lock (and the folder when this run created it and it is empty). */
  async release(): Promise<void> {
    if (this.released) return;
    for (const t of [...this.temps]) await rm(t, { recursive: true, force: true }).catch(() => undefined);
    this.temps.clear();
    await unlink(this.lock).catch(() => undefined);
    if (this.created) await rmdir(this.root).catch(() => undefined);
    this.released = true;
    open_.delete(this);
  }

  /** What `release` does, synchronously (signal handlers). */
  releaseSync(): void {
    if (this.released) return;
    for (const t of this.temps) {
      // Between a set's two renames (only reached by a second signal): put the older set back.
      const old = OLD_SET.exec(basename(t));
      if (old) {
        try {
          renameSync(t, join(this.root, old[1]!));
          continue;
        } catch {
          // its place is taken (the new set arrived): remove it below
        }
      }
      try {
        rmSync(t, { recursive: true, force: true });
      } catch {
        // exiting: nothing more can be done
      }
    }
    this.temps.clear();
    try {
      unlinkSync(this.lock);
      if (this.created) rmdirSync(this.root);
    } catch {
      // already gone, or not empty
    }
    this.released = true;
    open_.delete(this);
  }
}

/** Takes the lock of `root` or throws the one-line refusal naming the holder. */
async function takeLock(root: string, dir: string, options: OpenOptions): Promise<string> {
  const lock = join(root, LOCK_FILE);
  const me: LockInfo = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command: options.command };
  const mine = join(root, `${TMP_PREFIX}${tag()}.lock`);
  try {
    await writeFile(mine, `${JSON.stringify(me)}\n`, { flag: 'wx' });
  } catch (e) {
    throw new BacklightError(`cannot write to output folder '${dir}': ${fsReason(e)}`);
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(mine, lock);
        return lock;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BacklightError(`cannot lock output folder '${dir}': ${fsReason(e)}`);
      }
      const text = await readFile(lock, 'utf8').catch(() => null);
      if (text === null) continue; // removed meanwhile: try again
      const other = parseLock(text);
      if (other && (other.host !== me.host || processAlive(other.pid))) {
        const where = other.host !== me.host ? ` on host ${other.host}` : '';
        throw new BacklightError(
          `output folder '${dir}' is in use by another backlight run (pid ${other.pid}${where}, started at ${other.started}): wait for it to end or use another --out${other.host !== me.host ? ` (if that run is gone, remove '${join(dir, LOCK_FILE)}')` : ''}`,
        );
      }
      // Stale: move it away under a name of ours, check that what we moved is what we read (two
      // runs taking over at once: the second may move the first's fresh lock, and puts it back).
      const away = join(root, `${OLD_PREFIX}${tag()}.lock`);
      try {
        await rename(lock, away);
      } catch {
        continue;
      }
      const moved = await readFile(away, 'utf8').catch(() => '');
      if (moved !== text) {
        await link(away, lock).catch(() => undefined);
        await unlink(away).catch(() => undefined);
        continue;
      }
      await unlink(away).catch(() => undefined);
      options.note?.(other ? `took over the lock of '${dir}' left by a run that is gone (pid ${other.pid}, started at ${other.started})` : `took over an unreadable lock file in '${dir}'`);
    }
    throw new BacklightError(`cannot lock output folder '${dir}': another run keeps taking it`);
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/**
 * Removes the temporaries of other processes: `.backlight-tmp-*` / `.backlight-old-*` entries of
 * the folder and `*.tmp-<pid>-<hex>` files in it and one level down. Called under the lock, so no
 * other backlight process is writing here. Returns how many were removed.
 */
export async function sweep(root: string): Promise<number> {
  let count = 0;
  const own = String(process.pid);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const m = OWN_TMP.exec(e.name) ?? FILE_TMP.exec(e.name);
    if (m && m[1] !== own) {
      // A set moved away to be replaced, whose replacement never arrived: it goes back.
      const old = OLD_SET.exec(e.name);
      if (old && e.isDirectory() && !(await exists(join(root, old[1]!)))) {
        await rename(join(root, e.name), join(root, old[1]!));
      } else await rm(join(root, e.name), { recursive: true, force: true });
      count++;
    } else if (e.isDirectory() && !e.name.startsWith('.backlight-')) {
      const inner = await readdir(join(root, e.name)).catch(() => [] as string[]);
      for (const f of inner) {
        const mm = FILE_TMP.exec(f);
        if (mm && mm[1] !== own) {
          await rm(join(root, e.name, f), { force: true });
          count++;
        }
      }
    }
  }
  return count;
}

/** Reads the lock of a folder (null when there is none or it cannot be read). */
export async function readLock(dir: string): Promise<LockInfo | null> {
  const text = await readFile(join(dir, LOCK_FILE), 'utf8').catch(() => null);
  return text === null ? null : parseLock(text);
}

/** A file's size and whether it existed, for `Snapshot`. */
type Sizes = Map<string, number>;

async function listSizes(root: string, rel = '', into: Sizes = new Map()): Promise<Sizes> {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const r = rel ? join(rel, e.name) : e.name;
    if (e.isDirectory()) await listSizes(root, r, into);
    else if (e.isFile()) into.set(r, (await stat(join(root, r))).size);
  }
  return into;
}

/**
 * The files of a folder and their sizes, to undo what a failed run added: files it created are
 * removed, files it appended to are cut back (for outputs written in place, such as an evaluation's
 * results.jsonl, which a resumed run appends to).
 */
export class Snapshot {
  private constructor(
    private readonly root: string,
    private readonly sizes: Sizes,
    private readonly only: readonly string[] | null,
  ) {}

  /** The whole folder, or only the files `only` (paths relative to `root`). */
  static async take(root: string, only?: readonly string[]): Promise<Snapshot> {
    if (!only) return new Snapshot(root, await listSizes(root), null);
    const sizes: Sizes = new Map();
    for (const rel of only) {
      const st = await stat(join(root, rel)).catch(() => null);
      if (st?.isFile()) sizes.set(rel, st.size);
    }
    return new Snapshot(root, sizes, only);
  }

  /** Removes the files created since the snapshot (and folders left empty), cuts appended files back. */
  async restore(): Promise<void> {
    let now: Sizes;
    if (this.only) {
      now = new Map();
      for (const rel of this.only) {
        const st = await stat(join(this.root, rel)).catch(() => null);
        if (st?.isFile()) now.set(rel, st.size);
      }
    } else now = await listSizes(this.root);
    for (const [rel, size] of now) {
      if (rel === LOCK_FILE || OWN_TMP.test(rel)) continue;
      const before = this.sizes.get(rel);
      if (before === undefined) await rm(join(this.root, rel), { force: true });
      else if (size > before) await truncate(join(this.root, rel), before);
    }
    if (!this.only) await removeEmptyFolders(this.root, this.root);
  }
}

async function removeEmptyFolders(dir: string, root: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await removeEmptyFolders(join(dir, e.name), root);
  if (dir !== root) await rmdir(dir).catch(() => undefined);
}

/**
 * Runs `body` with `dir` opened (locked, swept); releases it afterwards, on failure too. With
 * `undoOnFailure`, a failing body's additions to the folder are undone (`Snapshot`).
 */
export async function withOutputDir<T>(dir: string, options: OpenOptions & { undoOnFailure?: boolean }, body: (od: OutputDir) => Promise<T>): Promise<T> {
  const od = await OutputDir.open(dir, options);
  try {
    const snap = options.undoOnFailure ? await Snapshot.take(od.root) : null;
    try {
      return await body(od);
    } catch (e) {
      await snap?.restore().catch(() => undefined);
      throw e;
    }
  } finally {
    await od.release();
  }
}

/** Removes the temporaries and locks of this process's open output folders (synchronously). */
export function releaseAllSync(): void {
  for (const od of [...open_]) od.releaseSync();
}

/** On SIGINT/SIGTERM: remove temporaries and locks, then exit with 128 + the signal number (130/143). */
export function installSignalCleanup(): void {
  const signals: Array<[NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15]];
  for (const [sig, num] of signals) {
    process.on(sig, () => {
      if (critical > 0) deferredExit ??= 128 + num;
      else exitNow(128 + num);
    });
  }
}
