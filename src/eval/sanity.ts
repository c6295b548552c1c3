/**
 * `eval sanity`: model-randomization sanity checks (Adebayo et al. 2018; Nie et al. 2018 §4.5).
 *
 * Stages, each a copy of the model with some learnable layers re-initialized
 * (src/builder/randomize.ts; layers l_0 … l_{M−1} in forward order):
 * - `original`: no layer re-initialized — the model after an export round trip; every score of this
 *   stage is 1 unless the plumbing changed the model;
 * - cascading, layer L: l_L … l_{M−1} re-initialized (trained up to l_{L−1}, random from l_L to the
 *   logits), for L from the top (M−1) down to 0;
 * - single, layer L: only l_L re-initialized, for L from the top down.
 * Per image, method and stage, the map is compared with the trained model's map of the same class
 * (`mapSimilarity`: Spearman's ρ of the scored maps and of the signed channel sums, SSIM), and the
 * stage's predicted class is recorded.
 *
 * Order of work: stage-major. Each stage's model is built and compiled once (one session per
 * method) and all images run through it, instead of recompiling every stage for every batch of
 * images. The trained model's maps of the images are kept in memory for the comparisons; when they
 * (with the inputs) would exceed `memoryBudget`, the images are split into chunks, each going
 * through all stages.
 *
 * Records: one JSON line per (image, stage) in `<out>/results.jsonl`, appended after each batch, so
 * a killed run resumes with the (image, stage) pairs not yet there (it recomputes the trained
 * model's maps of those images, which are not stored). No sharding: the unit of work is a stage
 * over all images, and a run is bounded by `--limit`.
 * The maps of the first `figureImages` images at each stage are kept in `<out>/maps/<stage>.npy`
 * ([images, methods, H, W], the scored maps) for the report's figure grids.
 */
import { access } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { randomizeLayers, type LearnableLayer, type ReinitKind } from '../builder/randomize.js';
import type { Graph } from '../ir/graph.js';
import { writeFileAtomic } from '../io/files.js';
import { encodeNpy } from '../io/npy.js';
import { inputDims, type Preprocess } from '../io/preprocess.js';
import type { Explainer, Explanation, TensorLike } from '../methods/explainer.js';
import type { MethodParams } from '../methods/methods.js';
import { mapSimilarity, type MapPair, type MapSimilarity } from '../metrics/randomization.js';
import { summarize, type Summary } from '../metrics/stats.js';
import { encodeModel } from '../onnx/encode.js';
import { paddedBatches, stackImages } from './batches.js';
import type { Dataset, DatasetEntry } from './datasets.js';
import { argmaxRow } from './forward.js';
import { mapOf, reductionOf, type EvalMethodName } from './maps.js';
import { logRun, readRecords, RecordWriter, RESULTS_FILE, type BaseRecord } from './records.js';
import { loadBatch, prepareRunFolder, round, type RunProgress } from './runner.js';

export const SANITY_MODES = ['cascading', 'single'] as const;
export type SanityMode = (typeof SANITY_MODES)[number];

export interface SanityStage {
  /** 'original', 'cascading/<L>' or 'single/<L>' with L the layer index. */
  id: string;
  mode: 'original' | SanityMode;
  /** The layer L of the stage (null for the original). */
  layer: number | null;
  layerName: string | null;
  /** Indices of the re-initialized layers. */
  randomized: number[];
}

/**
 * The stages for `modes`, the original first; `selected` (layer indices) limits the stages to those
 * layers — a cascade still re-initializes every layer from the top down to the selected one.
 */
export function sanityStages(layers: readonly LearnableLayer[], modes: readonly SanityMode[], selected?: readonly number[]): SanityStage[] {
  const picked = [...new Set(selected ?? layers.map((l) => l.index))].sort((a, b) => b - a);
  const stages: SanityStage[] = [{ id: 'original', mode: 'original', layer: null, layerName: null, randomized: [] }];
  for (const mode of SANITY_MODES) {
    if (!modes.includes(mode)) continue;
    for (const L of picked) {
      const randomized = mode === 'cascading' ? layers.filter((l) => l.index >= L).map((l) => l.index) : [L];
      stages.push({ id: `${mode}/${L}`, mode, layer: L, layerName: layers[L]!.name, randomized });
    }
  }
  return stages;
}

/** The settings of a sanity run (run.json `settings`). */
export interface SanitySettings {
  modes: SanityMode[];
  init: ReinitKind;
  seed: number;
  /** Which class is explained at every stage: the ground-truth label or the trained model's prediction. */
  target: 'label' | 'predicted';
  layers: { index: number; name: string; op: string; batchNorm: string | null; parameters: number }[];
  stages: string[];
  figureImages: number;
}

export interface SanityRecord extends BaseRecord {
  stage: string;
  /** The class explained. */
  target: number;
  /** The class this stage's model predicts. */
  predicted: number;
  /** Whether that is the trained model's prediction. */
  agrees: boolean;
  methods: Record<string, MapSimilarity>;
}

export interface SanityRunOptions {
  out: string;
  dataset: Dataset;
  preprocess: Preprocess;
  /** The trained model, and its graph as imported. */
  modelBytes: Uint8Array;
  graph: Graph;
  layers: readonly LearnableLayer[];
  stages: readonly SanityStage[];
  methods: readonly EvalMethodName[];
  params: Record<string, MethodParams>;
  settings: SanitySettings;
  /** What run.json holds (compared on re-runs). */
  config: Record<string, unknown>;
  /** Loads a model for explaining (one session per method is enough). */
  load: (bytes: Uint8Array, source: string) => Promise<Explainer>;
  /** Images per explain call (a model with a fixed batch uses its own). */
  batch: number;
  progress?: RunProgress;
  /** Bytes the inputs and trained maps of one chunk of images may take (default 512 MiB). */
  memoryBudget?: number;
  runInfo?: Record<string, unknown>;
}

export interface SanityRunStats {
  images: number;
  stages: number;
  /** (image, stage) pairs: already recorded before this run, and evaluated by it. */
  skipped: number;
  processed: number;
  seconds: number;
  file: string;
  badLines: number;
}

const key = (stage: string, file: string): string => `${stage}\u0000${file}`;
export const mapsFile = (out: string, stage: string): string => join(out, 'maps', `${stage.replace('/', '-')}.npy`);

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** The maps of one explanation's image i: scored (what the evaluations score) and signed channel sum. */
function pairOf(e: Pick<Explanation, 'maps' | 'mapAt'>, method: EvalMethodName, i: number): MapPair & { scored: { data: Float32Array } } {
  const scored = mapOf(e, method, i);
  return { scored, signed: { data: Float32Array.from(e.mapAt('sum', i, 0)), width: scored.width, height: scored.height } };
}

/** Runs (or resumes) the sanity checks; see the module note. */
export async function runSanity(o: SanityRunOptions): Promise<SanityRunStats> {
  const t0 = performance.now();
  await prepareRunFolder(o.out, o.config);
  const file = join(o.out, RESULTS_FILE);
  const previous = await readRecords<SanityRecord>(file);
  const done = new Set(previous.records.map((r) => key(r.stage, r.file)));
  const entries = o.dataset.entries;
  const figure = new Set(entries.slice(0, o.settings.figureImages).map((e) => e.file));
  const needsMaps = new Map<string, boolean>();
  for (const s of o.stages) needsMaps.set(s.id, figure.size > 0 && !(await exists(mapsFile(o.out, s.id))));
  const todo = (s: SanityStage, e: DatasetEntry): boolean => !done.has(key(s.id, e.file));
  const runs = (s: SanityStage, e: DatasetEntry): boolean => todo(s, e) || (figure.has(e.file) && needsMaps.get(s.id)!);
  const needed = entries.filter((e) => o.stages.some((s) => runs(s, e)));
  const total = o.stages.reduce((n, s) => n + entries.filter((e) => todo(s, e)).length, 0);

  const dims = inputDims(o.preprocess, 1);
  const perImage = dims.reduce((a, b) => a * b, 1);
  const [h, w] = o.preprocess.layout === 'nchw' ? [dims[2]!, dims[3]!] : [dims[1]!, dims[2]!];
  const mapSize = h * w;
  const budget = o.memoryBudget ?? 512 * 2 ** 20;
  // The figure images (the first ones) stay in the first chunk, so their maps are written whole.
  const chunkSize = Math.max(1, figure.size, Math.floor(budget / (4 * (perImage + 2 * o.methods.length * mapSize))));
  const reductions = [...new Set([...o.methods.map(reductionOf), 'sum' as const])];

  const writer = new RecordWriter(file, previous.unterminated);
  let processed = 0;
  o.progress?.start(total);
  try {
    for (let c0 = 0; c0 < needed.length; c0 += chunkSize) {
      const chunk = needed.slice(c0, c0 + chunkSize);
      const input = (await loadBatch(chunk, o.preprocess)).input;
      const imageOf = (j: number): Float32Array => input.data.subarray(j * perImage, (j + 1) * perImage);
      const position = new Map(chunk.map((e, j) => [e.file, j]));

      // The trained model's maps, predictions and explained classes.
      const reference = chunk.map(() => new Map<string, MapPair>());
      const predicted: number[] = new Array<number>(chunk.length);
      const targets: number[] = new Array<number>(chunk.length);
      const trained = await o.load(o.modelBytes, 'trained model');
      const batchOf = (ex: Explainer): number => (typeof ex.inputShape[0] === 'number' ? ex.inputShape[0] : o.batch);
      try {
        for (const b of paddedBatches(chunk.map((_, j) => j), batchOf(trained))) {
          const x = stackImages(b.items.map(imageOf), dims);
          for (const method of o.methods) {
            const target = o.settings.target === 'label' ? b.items.map((j) => [chunk[j]!.label]) : 'max';
            const e = await trained.explain(x, { method, target, params: o.params[method], reductions });
            b.items.slice(0, b.real).forEach((j, i) => {
              reference[j]!.set(method, pairOf(e, method, i));
              predicted[j] = argmaxRow(e.logits.data, e.logits.dims[1]!, i);
              targets[j] = e.targets[i]![0]!;
            });
          }
        }
      } finally {
        await trained.release();
      }

      for (const stage of o.stages) {
        const run = chunk.filter((e) => runs(stage, e));
        if (run.length === 0) continue;
        const graph = randomizeLayers(o.graph, o.layers, stage.randomized, { seed: o.settings.seed, init: o.settings.init });
        const ex = await o.load(encodeModel(graph), `stage ${stage.id}`);
        const shown = run.filter((e) => figure.has(e.file) && needsMaps.get(stage.id));
        const figureMaps = shown.length > 0 ? new Float32Array(figure.size * o.methods.length * mapSize) : null;
        try {
          for (const b of paddedBatches(run, batchOf(ex))) {
            const js = b.items.map((e) => position.get(e.file)!);
            const x = stackImages(js.map(imageOf), dims);
            const sims = b.items.map(() => ({}) as Record<string, MapSimilarity>);
            const stagePredicted: number[] = [];
            for (const [mi, method] of o.methods.entries()) {
              const e = await ex.explain(x, { method, target: js.map((j) => [targets[j]!]), params: o.params[method], reductions });
              for (let i = 0; i < b.real; i++) {
                const entry = b.items[i]!;
                const pair = pairOf(e, method, i);
                sims[i]![method] = mapSimilarity(reference[js[i]!]!.get(method)!, pair);
                stagePredicted[i] = argmaxRow(e.logits.data, e.logits.dims[1]!, i);
                if (figureMaps && figure.has(entry.file)) {
                  const f = entries.findIndex((x) => x.file === entry.file);
                  figureMaps.set(pair.scored.data, (f * o.methods.length + mi) * mapSize);
                }
              }
            }
            for (let i = 0; i < b.real; i++) {
              const entry = b.items[i]!;
              if (!todo(stage, entry)) continue;
              const j = js[i]!;
              const methods: Record<string, MapSimilarity> = {};
              for (const m of o.methods) {
                const s = sims[i]![m]!;
                methods[m] = { spearmanAbs: round(s.spearmanAbs, 4), spearmanRaw: round(s.spearmanRaw, 4), ssim: round(s.ssim, 4) };
              }
              const record: SanityRecord = {
                index: entry.index,
                file: entry.file,
                label: entry.label,
                stage: stage.id,
                target: targets[j]!,
                predicted: stagePredicted[i]!,
                agrees: stagePredicted[i] === predicted[j],
                methods,
              };
              await writer.append(record);
              done.add(key(stage.id, entry.file));
              processed++;
              o.progress?.tick(processed, total, `${stage.id} ${entry.file}`);
            }
          }
        } finally {
          await ex.release();
        }
        if (figureMaps && shown.length === [...figure].filter((f) => position.has(f)).length) {
          await writeFileAtomic(mapsFile(o.out, stage.id), encodeNpy(figureMaps, [figure.size, o.methods.length, h, w]));
          needsMaps.set(stage.id, false);
        }
      }
    }
  } finally {
    o.progress?.stop();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (processed > 0) {
    await logRun(o.out, {
      finished: new Date().toISOString(),
      processed,
      skipped: done.size - processed,
      seconds: Math.round(seconds * 100) / 100,
      batch: o.batch,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      ...o.runInfo,
    });
  }
  return { images: entries.length, stages: o.stages.length, skipped: done.size - processed, processed, seconds, file, badLines: previous.badLines };
}

// ---------------------------------------------------------------------------------------------
// Summary

export type SanityMetric = keyof MapSimilarity;
export const SANITY_METRICS: readonly SanityMetric[] = ['spearmanAbs', 'spearmanRaw', 'ssim'];

export interface SanityStageSummary {
  id: string;
  mode: SanityStage['mode'];
  layer: number | null;
  layerName: string | null;
  images: number;
  /** Share of the images whose predicted class is the trained model's. */
  agreement: number;
  methods: Record<string, Record<SanityMetric, Summary>>;
}

export interface SanitySummary {
  evaluation: 'sanity';
  images: number;
  methods: string[];
  stages: SanityStageSummary[];
}

/** Per stage and method, the summary statistics of each metric over the images (finite values). */
export function summarizeSanity(records: readonly SanityRecord[], stages: readonly SanityStage[], methods: readonly string[]): SanitySummary {
  const byStage = new Map<string, SanityRecord[]>();
  for (const r of records) byStage.set(r.stage, [...(byStage.get(r.stage) ?? []), r]);
  const value = (v: number | null): number => (v === null ? NaN : v);
  return {
    evaluation: 'sanity',
    images: new Set(records.map((r) => r.file)).size,
    methods: [...methods],
    stages: stages.map((s) => {
      const rs = byStage.get(s.id) ?? [];
      const perMethod: SanityStageSummary['methods'] = {};
      for (const m of methods) {
        perMethod[m] = Object.fromEntries(SANITY_METRICS.map((k) => [k, summarize(rs.map((r) => value(r.methods[m]?.[k] ?? null)))])) as Record<SanityMetric, Summary>;
      }
      return {
        id: s.id,
        mode: s.mode,
        layer: s.layer,
        layerName: s.layerName,
        images: rs.length,
        agreement: rs.length ? rs.filter((r) => r.agrees).length / rs.length : NaN,
        methods: perMethod,
      };
    }),
  };
}
