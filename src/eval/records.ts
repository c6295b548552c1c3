/**
 * Per-image results as JSON lines, written so that a run can be killed and resumed at any moment.
 *
 * - `<out>/results.jsonl`: one JSON object per image and line, appended with one `appendFile` call
 *   per image as soon as the image is done (a kill loses at most the images in flight). A re-run
 *   reads the file and skips the images already in it (by `file`). A line cut short by a kill is not
 *   valid JSON: it is ignored (its image is done again) and the next append starts on a new line.
 * - `<out>/results.shard-i-of-n.jsonl`: the same for `--shard i/n`; `mergeRecordFiles` gathers the
 *   records of every file into results.jsonl, one per image, ordered by index.
 * - `<out>/run.json`: what was evaluated and how (the configuration), written before the first
 *   image; a re-run with another configuration into the same folder is refused.
 * - `<out>/runs.jsonl`: one line per finished run or shard (images done, seconds, load) for timings.
 */
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BacklightError } from '../errors.js';
import { fsReason, makeFolder, writeFileAtomic } from '../io/files.js';
import type { Shard } from './datasets.js';

/** What every per-image record has. */
export interface BaseRecord {
  index: number;
  file: string;
  label: number;
}

export const RESULTS_FILE = 'results.jsonl';
export const RUN_FILE = 'run.json';
export const RUNS_LOG = 'runs.jsonl';
const SHARD_RE = /^results\.shard-([0-9]+)-of-([0-9]+)\.jsonl$/;

/** `results.jsonl`, or `results.shard-i-of-n.jsonl` for a shard. */
export function resultsFile(out: string, shard: Shard | null): string {
  return join(out, shard ? `results.shard-${shard.index}-of-${shard.count}.jsonl` : RESULTS_FILE);
}

/** The shard files in `out`, sorted by name. */
export async function shardFiles(out: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BacklightError(`cannot read output folder '${out}': ${fsReason(e)}`);
  }
  return names.filter((n) => SHARD_RE.test(n)).sort().map((n) => join(out, n));
}

export interface ReadResult<R> {
  records: R[];
  /** Lines that were not valid records (a line cut short by a kill). */
  badLines: number;
  /** Whether the file ends without a newline (the next append must start a new line). */
  unterminated: boolean;
}

/** Reads a JSON-lines file of records; a missing file has none. */
export async function readRecords<R extends BaseRecord>(file: string): Promise<ReadResult<R>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], badLines: 0, unterminated: false };
    throw new BacklightError(`cannot read results '${file}': ${fsReason(e)}`);
  }
  const records: R[] = [];
  let badLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as R;
      if (typeof r === 'object' && r !== null && typeof r.file === 'string' && Number.isInteger(r.index)) records.push(r);
      else badLines++;
    } catch {
      badLines++;
    }
  }
  return { records, badLines, unterminated: text.length > 0 && !text.endsWith('\n') };
}

/** Appends records one line at a time, each with a single `appendFile` call. */
export class RecordWriter {
  private needsNewline: boolean;

  constructor(
    readonly file: string,
    unterminated: boolean,
  ) {
    this.needsNewline = unterminated;
  }

  async append(record: BaseRecord): Promise<void> {
    const line = `${this.needsNewline ? '\n' : ''}${JSON.stringify(record)}\n`;
    try {
      await appendFile(this.file, line, 'utf8');
    } catch (e) {
      throw new BacklightError(`cannot append to '${this.file}': ${fsReason(e)}`);
    }
    this.needsNewline = false;
  }
}

/** One record per image (the first one read wins), ordered by index. */
export function uniqueRecords<R extends BaseRecord>(lists: readonly (readonly R[])[]): R[] {
  const byFile = new Map<string, R>();
  for (const list of lists) for (const r of list) if (!byFile.has(r.file)) byFile.set(r.file, r);
  return [...byFile.values()].sort((a, b) => a.index - b.index || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * Every record of `out` (results.jsonl first, then the shard files), one per image, by index; with
 * `write`, results.jsonl is rewritten atomically to hold exactly them (the shard files are kept).
 */
export async function mergeRecordFiles<R extends BaseRecord>(out: string, write: boolean): Promise<{ records: R[]; shards: string[]; badLines: number }> {
  const shards = await shardFiles(out);
  const main = await readRecords<R>(join(out, RESULTS_FILE));
  const parts = [main];
  for (const f of shards) parts.push(await readRecords<R>(f));
  const records = uniqueRecords(parts.map((p) => p.records));
  const badLines = parts.reduce((s, p) => s + p.badLines, 0);
  const changed = shards.length > 0 || main.badLines > 0 || main.unterminated || main.records.length !== records.length;
  if (write && changed) await writeFileAtomic(join(out, RESULTS_FILE), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  return { records, shards, badLines };
}

/** Reads `run.json` (null when absent). */
export async function readRunConfig<C>(out: string): Promise<C | null> {
  const file = join(out, RUN_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new BacklightError(`cannot read '${file}': ${fsReason(e)}`);
  }
  try {
    return JSON.parse(text) as C;
  } catch (e) {
    throw new BacklightError(`'${file}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** The keys whose values differ between two JSON-able objects (top level), sorted. */
export function differingKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

/** Writes `run.json` (atomically) after creating the folder. */
export async function writeRunConfig(out: string, config: unknown): Promise<void> {
  await makeFolder(out);
  await writeFileAtomic(join(out, RUN_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** Appends one line to runs.jsonl. */
export async function logRun(out: string, entry: unknown): Promise<void> {
  try {
    await appendFile(join(out, RUNS_LOG), `${JSON.stringify(entry)}\n`, 'utf8');
  } catch (e) {
    throw new BacklightError(`cannot append to '${join(out, RUNS_LOG)}': ${fsReason(e)}`);
  }
}

/** The lines of runs.jsonl (skipping bad ones). */
export async function readRunLog(out: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(join(out, RUNS_LOG), 'utf8');
  } catch {
    return [];
  }
  const out_: unknown[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out_.push(JSON.parse(line));
    } catch {
      // a cut line
    }
  }
  return out_;
}
