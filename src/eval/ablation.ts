/**
 * `eval ablation`: Gu et al.'s ablation study (§5.2, their Table 1) and deletion / insertion curves
 * (Petsiuk et al.), for every method, explaining the ground-truth class (or the predicted one).
 *
 * Per image (one record): the target's logit and softmax probability on the input; then
 * - random: a square patch around a uniformly random pixel (seeded by the run's seed and the
 *   image's index; one per image, shared by all methods) replaced by the fill, and the target's
 *   logit and probability after;
 * - for each method: the same patch around the map's first maximum; and, unless `steps` is 0, the
 *   deletion and insertion curves (the target's probability after 0, n/steps, …, n of the pixels
 *   with the highest map values are set to the baseline / restored from it) with their AUCs.
 * The patch side defaults to 32 px for a 224-px input (⌊32/224 · side⌉ for other sizes, about 14 %
 * of the side). The fill is the dataset mean in the model's normalized space, per channel: 0 by
 * default, which for the imagenet and cifar10 presets is the ImageNet training mean that their
 * normalization subtracts; `--fill dataset` computes the per-channel mean of the evaluated images.
 * The deletion/insertion baseline is 0 (the same mean colour).
 *
 * The summary: per row (random, then methods) the mean drop of the target's logit (before − after;
 * Gu et al.'s "dropped activation") and of its probability, with their spread, and per method the
 * mean deletion and insertion AUCs and mean curves.
 */
import { ablateAtMax, ablateAtRandom, perturbationCurve } from '../metrics/ablation.js';
import { mulberry32 } from '../metrics/random.js';
import { summarize, type Summary } from '../metrics/stats.js';
import type { Explainer } from '../methods/explainer.js';
import type { Preprocess } from '../io/preprocess.js';
import { argmaxRow, softmaxAt, type Forward } from './forward.js';
import { mapKind, mapOf, methodLabel, paramsOf, reductionOf, type EvalMethodName } from './maps.js';
import type { BaseRecord } from './records.js';
import { imageSeed, round, type Batch, type Evaluation } from './runner.js';

export interface AblationConfig {
  methods: EvalMethodName[];
  /** Side of the square patch, pixels. */
  patchSize: number;
  /** Per-channel fill of the patch, in the normalized input space. */
  fill: number[];
  /** How the fill was chosen: 'preset' (0 = the preset's mean), 'dataset', or 'given'. */
  fillSource: 'preset' | 'dataset' | 'given';
  /** Steps of the deletion and insertion curves (0: no curves). */
  steps: number;
  /** Baseline value of the curves (normalized space). */
  baseline: number;
  target: 'label' | 'predicted';
  seed: number;
}

/** 32 px for a 224 input, the same share of the side otherwise. */
export function defaultPatchSize(side: number): number {
  return Math.max(1, Math.round((32 / 224) * side));
}

export interface Score {
  logit: number;
  prob: number;
}

export interface AblationMethodRecord extends Score {
  x: number;
  y: number;
  /** Target probability at each step of the curves (absent with steps 0). */
  deletion?: number[];
  insertion?: number[];
  deletionAuc?: number;
  insertionAuc?: number;
}

export interface AblationRecord extends BaseRecord {
  /** The class explained and scored. */
  target: number;
  predicted: number;
  /** On the unperturbed input. */
  logit: number;
  prob: number;
  random: Score & { x: number; y: number };
  methods: Record<string, AblationMethodRecord>;
}

const score = (logits: Float32Array, classes: number, i: number, c: number): Score => ({
  logit: round(logits[i * classes + c]!),
  prob: round(softmaxAt(logits, classes, i, c), 8),
});

export function ablationEvaluation(explainer: Explainer, forward: Forward, preprocess: Preprocess, config: AblationConfig): Evaluation<AblationRecord> {
  return {
    async process(batch: Batch): Promise<AblationRecord[]> {
      const n = batch.samples.length;
      const before = await forward.logits(batch.input.data, n);
      const classes = before.classes;
      const predicted = Array.from({ length: n }, (_, i) => argmaxRow(before.data, classes, i));
      const targets = batch.samples.map((s, i) => (config.target === 'label' ? s.entry.label : predicted[i]!));
      const one = (i: number) => ({ data: batch.samples[i]!.tensor.data, dims: batch.samples[i]!.tensor.dims });
      const patch = { patchSize: config.patchSize, mean: config.fill };

      // Random patches (one per image) and the patches at each method's maximum, scored together.
      const perturbed: Float32Array[] = [];
      const randomAt = batch.samples.map((s, i) => {
        const a = ablateAtRandom(one(i), { ...patch, rng: mulberry32(imageSeed(config.seed, s.entry.index)) });
        perturbed.push(a.data);
        return a.center;
      });
      const maps: Record<string, ReturnType<typeof mapOf>[]> = {};
      const maxAt: Record<string, { x: number; y: number }[]> = {};
      for (const method of config.methods) {
        const e = await explainer.explain(batch.input, { method, target: targets.map((t) => [t]), params: paramsOf(method, preprocess), reductions: [reductionOf(method)] });
        maps[method] = batch.samples.map((_, i) => mapOf(e, method, i));
        maxAt[method] = batch.samples.map((_, i) => {
          const a = ablateAtMax(one(i), maps[method]![i]!, patch);
          perturbed.push(a.data);
          return a.center;
        });
      }
      const size = batch.samples[0]!.tensor.data.length;
      const stacked = new Float32Array(perturbed.length * size);
      perturbed.forEach((p, k) => stacked.set(p, k * size));
      const after = await forward.logits(stacked, perturbed.length);

      const records: AblationRecord[] = [];
      for (let i = 0; i < n; i++) {
        const s = batch.samples[i]!;
        const t = targets[i]!;
        const methods: Record<string, AblationMethodRecord> = {};
        for (let m = 0; m < config.methods.length; m++) {
          const method = config.methods[m]!;
          const at = maxAt[method]![i]!;
          const rec: AblationMethodRecord = { x: at.x, y: at.y, ...score(after.data, classes, n + m * n + i, t) };
          if (config.steps > 0) {
            const input = one(i);
            const curve = async (mode: 'deletion' | 'insertion') =>
              perturbationCurve(input, maps[method]![i]!, { mode, steps: config.steps, baseline: config.baseline, batchSize: config.steps + 1 }, async (b) => {
                const l = await forward.logits(b.data, b.count);
                return Array.from({ length: b.count }, (_, k) => softmaxAt(l.data, l.classes, k, t));
              });
            const del = await curve('deletion');
            const ins = await curve('insertion');
            rec.deletion = del.scores.map((v) => round(v, 8));
            rec.insertion = ins.scores.map((v) => round(v, 8));
            rec.deletionAuc = round(del.auc, 8);
            rec.insertionAuc = round(ins.auc, 8);
          }
          methods[method] = rec;
        }
        records.push({
          index: s.entry.index,
          file: s.entry.file,
          label: s.entry.label,
          target: t,
          predicted: predicted[i]!,
          ...score(before.data, classes, i, t),
          random: { x: randomAt[i]!.x, y: randomAt[i]!.y, ...score(after.data, classes, i, t) },
          methods,
        });
      }
      return records;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

export interface AblationRow {
  name: string;
  label: string;
  kind: 'method' | 'baseline';
  /** before − after of the target logit. */
  logitDrop: Summary;
  /** before − after of the target probability. */
  probDrop: Summary;
  deletionAuc?: Summary;
  insertionAuc?: Summary;
  /** Mean probability at each step. */
  deletionCurve?: number[];
  insertionCurve?: number[];
}

export interface AblationSummary {
  evaluation: 'ablation';
  images: number;
  classes: number;
  patchSize: number;
  fill: number[];
  steps: number;
  target: 'label' | 'predicted';
  top1: number;
  /** Mean logit and probability of the target before any perturbation. */
  before: { logit: Summary; prob: Summary };
  rows: AblationRow[];
  /** Gu et al.'s Table 1 layout: one column per row name, the mean logit drop (and probability drop). */
  table1: { columns: string[]; logitDrop: number[]; probDrop: number[] };
  maps: Record<string, string>;
}

function meanCurve(curves: number[][]): number[] {
  if (curves.length === 0) return [];
  const out = new Array<number>(curves[0]!.length).fill(0);
  for (const c of curves) c.forEach((v, k) => (out[k]! += v));
  return out.map((v) => v / curves.length);
}

export function summarizeAblation(records: readonly AblationRecord[], config: AblationConfig): AblationSummary {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const drops = (after: (r: AblationRecord) => Score) => ({
    logitDrop: summarize(sorted.map((r) => r.logit - after(r).logit)),
    probDrop: summarize(sorted.map((r) => r.prob - after(r).prob)),
  });
  const rows: AblationRow[] = [{ name: 'random', label: 'Random', kind: 'baseline', ...drops((r) => r.random) }];
  for (const m of config.methods) {
    const row: AblationRow = { name: m, label: methodLabel(m), kind: 'method', ...drops((r) => r.methods[m]!) };
    if (config.steps > 0) {
      row.deletionAuc = summarize(sorted.map((r) => r.methods[m]!.deletionAuc ?? NaN));
      row.insertionAuc = summarize(sorted.map((r) => r.methods[m]!.insertionAuc ?? NaN));
      row.deletionCurve = meanCurve(sorted.map((r) => r.methods[m]!.deletion ?? []).filter((c) => c.length));
      row.insertionCurve = meanCurve(sorted.map((r) => r.methods[m]!.insertion ?? []).filter((c) => c.length));
    }
    rows.push(row);
  }
  return {
    evaluation: 'ablation',
    images: sorted.length,
    classes: new Set(sorted.map((r) => r.label)).size,
    patchSize: config.patchSize,
    fill: config.fill,
    steps: config.steps,
    target: config.target,
    top1: sorted.length ? sorted.filter((r) => r.predicted === r.label).length / sorted.length : NaN,
    before: { logit: summarize(sorted.map((r) => r.logit)), prob: summarize(sorted.map((r) => r.prob)) },
    rows,
    table1: { columns: rows.map((r) => r.name), logitDrop: rows.map((r) => r.logitDrop.mean), probDrop: rows.map((r) => r.probDrop.mean) },
    maps: Object.fromEntries(config.methods.map((m) => [m, mapKind(m)])),
  };
}
