/**
 * The evaluation runner: images in batches through an evaluation, per-image records appended to
 * JSON lines as they are done — resumable and shardable.
 *
 * - Resume: the images already recorded (in results.jsonl and the shard files; for a shard, its own
 *   file and results.jsonl) are skipped; the rest are appended, one `appendFile` call per image, as
 *   soon as their batch is done. A kill loses only the batch in flight.
 * - Shards: `--shard i/n` takes the images whose index % n == i and writes
 *   `results.shard-i-of-n.jsonl`; `mergeRecordFiles` (`backlight eval merge`) gathers the shards.
 *   Records are computed per image only (random baselines are seeded by the image's index), so
 *   shards and merge give the same records and summaries as one run.
 * - run.json holds the configuration; a folder that holds results of another configuration is
 *   refused rather than mixed.
 * Image decoding of the next batch overlaps the evaluation of the current one.
 */
import { loadImage } from '../io/image.js';
import { inputDims, type Preprocess } from '../io/preprocess.js';
import type { TensorLike } from '../methods/explainer.js';
import type { Box } from '../metrics/boxes.js';
import { BacklightError } from '../errors.js';
import { boxesToInput, shardEntries, type Dataset, type DatasetEntry, type Shard } from './datasets.js';
import {
  differingKeys,
  logRun,
  readRecords,
  readRunConfig,
  RecordWriter,
  resultsFile,
  RESULTS_FILE,
  shardFiles,
  writeRunConfig,
  type BaseRecord,
} from './records.js';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/** One image ready for the model. */
export interface Sample {
  entry: DatasetEntry;
  /** [1, C, H, W] (or NHWC), preprocessed. */
  tensor: TensorLike;
  /** Ground-truth boxes in model-input pixels (null when the entry has none). */
  boxes: Box[] | null;
  /** The decoded file's size. */
  original: { width: number; height: number };
}

/** A batch: its samples and their tensors stacked, [B, …]. */
export interface Batch {
  samples: Sample[];
  input: TensorLike;
}

/** An evaluation: records per batch of images. */
export interface Evaluation<R extends BaseRecord> {
  /** Whether an entry can be evaluated (e.g. the pointing game needs boxes). */
  accepts?(entry: DatasetEntry): boolean;
  /** The records of a batch, one per sample, in order. */
  process(batch: Batch): Promise<R[]>;
}

/** Shown by the progress bar. */
export interface RunProgress {
  start(total: number): void;
  tick(done: number, total: number, file: string): void;
  stop(): void;
}

export interface RunnerOptions<R extends BaseRecord> {
  out: string;
  dataset: Dataset;
  preprocess: Preprocess;
  evaluation: Evaluation<R>;
  /** What run.json records (compared on re-runs). */
  config: Record<string, unknown>;
  shard?: Shard | null;
  /** Images per batch (default 1). */
  batch?: number;
  progress?: RunProgress;
  /** Extra fields for runs.jsonl. */
  runInfo?: Record<string, unknown>;
}

export interface RunStats {
  /** Images of this run's selection (after --limit, the shard and `accepts`). */
  selected: number;
  /** Entries left out by `accepts` (e.g. no boxes). */
  rejected: number;
  /** Already recorded before this run. */
  skipped: number;
  /** Evaluated by this run. */
  processed: number;
  seconds: number;
  file: string;
  /** Lines of the results files that were not valid records (cut by a kill); their images are redone. */
  badLines: number;
}

/** Loads the images of a batch (decoding in parallel) and stacks their tensors. */
export async function loadBatch(entries: readonly DatasetEntry[], preprocess: Preprocess): Promise<Batch> {
  const samples = await Promise.all(
    entries.map(async (entry): Promise<Sample> => {
      const img = await loadImage(entry.path, preprocess);
      const { width, height } = img.original;
      return { entry, tensor: img.tensor, boxes: entry.boxes ? boxesToInput(entry.boxes, width, height, preprocess) : null, original: { width, height } };
    }),
  );
  const per = samples[0]?.tensor.data.length ?? 0;
  const data = new Float32Array(per * samples.length);
  samples.forEach((s, i) => data.set(s.tensor.data, i * per));
  return { samples, input: { data, dims: inputDims(preprocess, samples.length) } };
}

/** Checks run.json against `config` (refusing a different configuration) and writes it if new. */
export async function prepareRunFolder(out: string, config: Record<string, unknown>): Promise<void> {
  const existing = await readRunConfig<Record<string, unknown>>(out);
  if (existing) {
    const keys = differingKeys(existing, config);
    if (keys.length > 0) {
      throw new BacklightError(
        `the output folder '${out}' holds results of another configuration (${keys.join(', ')} differ${keys.length === 1 ? 's' : ''}): use another --out, or remove the folder to start over`,
        'usage',
      );
    }
    return;
  }
  await writeRunConfig(out, config);
}

/** Runs (or resumes) an evaluation over the dataset's selection; returns what it did. */
export async function runEvaluation<R extends BaseRecord>(options: RunnerOptions<R>): Promise<RunStats> {
  const { out, dataset, preprocess, evaluation } = options;
  const shard = options.shard ?? null;
  const batchSize = options.batch ?? 1;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new BacklightError(`--batch must be a positive integer, got ${batchSize}`, 'usage');
  const t0 = performance.now();
  await prepareRunFolder(out, options.config);

  const inShard = shardEntries(dataset.entries, shard);
  const accepted = evaluation.accepts ? inShard.filter((e) => evaluation.accepts!(e)) : inShard;
  const file = resultsFile(out, shard);
  // Already done: this run's file, plus results.jsonl (merged shards) and, without a shard, every shard file.
  const sources = new Set<string>([file, join(out, RESULTS_FILE)]);
  if (!shard) for (const f of await shardFiles(out)) sources.add(f);
  const done = new Set<string>();
  let unterminated = false;
  let badLines = 0;
  for (const f of sources) {
    const r = await readRecords<R>(f);
    for (const rec of r.records) done.add(rec.file);
    badLines += r.badLines;
    if (f === file) unterminated = r.unterminated;
  }
  const todo = accepted.filter((e) => !done.has(e.file));
  const writer = new RecordWriter(file, unterminated);
  const progress = options.progress;
  const batches: DatasetEntry[][] = [];
  for (let i = 0; i < todo.length; i += batchSize) batches.push(todo.slice(i, i + batchSize));

  let processed = 0;
  progress?.start(todo.length);
  try {
    let next: Promise<Batch> | null = batches.length > 0 ? loadBatch(batches[0]!, preprocess) : null;
    for (let b = 0; b < batches.length; b++) {
      const batch = await next!;
      // Decode the next batch while this one is evaluated.
      next = b + 1 < batches.length ? loadBatch(batches[b + 1]!, preprocess) : null;
      next?.catch(() => undefined);
      const records = await evaluation.process(batch);
      if (records.length !== batch.samples.length) throw new Error(`evaluation returned ${records.length} records for ${batch.samples.length} images`);
      for (const r of records) {
        await writer.append(r);
        processed++;
        progress?.tick(processed, todo.length, r.file);
      }
    }
  } finally {
    progress?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (processed > 0) {
    await logRun(out, {
      finished: new Date().toISOString(),
      shard: shard ? `${shard.index}/${shard.count}` : null,
      processed,
      skipped: accepted.length - todo.length,
      seconds: Math.round(seconds * 100) / 100,
      batch: batchSize,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      ...options.runInfo,
    });
  }
  return {
    selected: accepted.length,
    rejected: inShard.length - accepted.length,
    skipped: accepted.length - todo.length,
    processed,
    seconds,
    file,
    badLines,
  };
}

/**
 * A per-image seed for the random baselines: the run's seed mixed with the image's index, so a
 * record does not depend on which images a run (or shard) did before it.
 */
export function imageSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Rounds for the records (keeps files small and readable; the summaries use the rounded values). */
export function round(x: number, digits = 6): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
