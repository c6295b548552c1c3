/**
 * `eval sensitivity`: how much each method's map changes with the class explained.
 *
 * Per image, the logits of a forward pass pick five classes, and each method explains all five in
 * one explain call (K = 5 targets through one backward batch):
 * - `random`: two distinct classes drawn uniformly (seeded by the run's seed and the image's
 *   index, so shards agree) — Nie et al. §4.3, their Figure 7;
 * - `maxmin`: the highest- and the lowest-scoring class — Rebuffi et al.'s class sensitivity;
 * - `top2`: the two highest-scoring classes — Gu et al.'s comparison of LRP and CLRP.
 * For each pair: the l2 distance between the l2-normalized maps (src/metrics/classSensitivity.ts;
 * 0 = the same map up to scale, √2 = maps on disjoint pixels) and Spearman's ρ of the maps (1 = the
 * same ranking of pixels; lower = more class-sensitive; NaN when a map is constant, then left out of
 * the mean and counted as skipped; the distance likewise when a map is all zeros, `mapDistance`).
 * Maps: see maps.ts.
 *
 * Every class is explained with a unit seed on its logit (paramsOf in maps.ts sets `seed: 'one'`
 * for the LRP family, whose default seed is the logit's value): the maps of a class with a negative logit, such as the
 * min-scoring one, would otherwise be sign-flipped, and the positive part of a flipped relevance map
 * is another map — a difference that says nothing about the method.
 */
import type { Preprocess } from '../io/preprocess.js';
import type { Explainer } from '../methods/explainer.js';
import { classSensitivitySpearman } from '../metrics/classSensitivity.js';
import { mulberry32, randomPair } from '../metrics/random.js';
import { summarize, type Summary } from '../metrics/stats.js';
import { BacklightError } from '../errors.js';
import { argmaxRow, type Forward } from './forward.js';
import { mapDistance, mapKind, mapOf, methodLabel, paramsOf, reductionOf, type EvalMethodName, type MapKind } from './maps.js';
import type { BaseRecord } from './records.js';
import { imageSeed, round, type Batch, type Evaluation } from './runner.js';

export const SENSITIVITY_PAIRS = ['random', 'maxmin', 'top2'] as const;
export type SensitivityPair = (typeof SENSITIVITY_PAIRS)[number];

export const PAIR_TEXT: Record<SensitivityPair, string> = {
  random: 'two random classes (Nie et al.)',
  maxmin: 'max- vs min-scoring class (Rebuffi et al.)',
  top2: 'top-1 vs top-2 class (Gu et al.)',
};

/** The default methods of `eval sensitivity` and `eval adversarial`: the gradient family, LRP, CLRP and Grad-CAM. */
export const SENSITIVITY_METHODS: readonly EvalMethodName[] = ['gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop', 'lrp', 'clrp1', 'clrp2', 'gradcam'];

export interface SensitivityConfig {
  methods: EvalMethodName[];
  seed: number;
}

/** One pair's measures: normalized l2 distance and Spearman's ρ (null in JSON when undefined). */
export interface PairMeasures {
  l2: number;
  spearman: number;
}

export interface SensitivityRecord extends BaseRecord {
  predicted: number;
  /** The classes of each pair. */
  classes: Record<SensitivityPair, [number, number]>;
  methods: Record<string, Record<SensitivityPair, PairMeasures>>;
}

/** The two classes of each pair for row i of [n, classes] logits. */
export function sensitivityClasses(logits: Float32Array, classes: number, i: number, seed: number, index: number): Record<SensitivityPair, [number, number]> {
  const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
  // Descending by logit; ties by class index, so the choice is deterministic.
  const order = row.map((_, c) => c).sort((a, b) => row[b]! - row[a]! || a - b);
  return {
    random: randomPair(mulberry32(imageSeed(seed, index)), classes),
    maxmin: [order[0]!, order[classes - 1]!],
    top2: [order[0]!, order[1]!],
  };
}

export function sensitivityEvaluation(explainer: Explainer, forward: Forward, preprocess: Preprocess, config: SensitivityConfig): Evaluation<SensitivityRecord> {
  return {
    async process(batch: Batch): Promise<SensitivityRecord[]> {
      const n = batch.samples.length;
      const { data: logits, classes } = await forward.logits(batch.input.data, n);
      if (classes < 2) throw new BacklightError(`class sensitivity needs a model with at least 2 classes; this one has ${classes}`, 'usage');
      const pairs = batch.samples.map((s, i) => sensitivityClasses(logits, classes, i, config.seed, s.entry.index));
      // Slots: random a, random b, max, min, second (max is also the first of top2).
      const targets = pairs.map((p) => [p.random[0], p.random[1], p.maxmin[0], p.maxmin[1], p.top2[1]]);
      const slotOf: Record<SensitivityPair, [number, number]> = { random: [0, 1], maxmin: [2, 3], top2: [2, 4] };
      const methods: Record<string, Record<SensitivityPair, PairMeasures>>[] = batch.samples.map(() => ({}));
      for (const method of config.methods) {
        const e = await explainer.explain(batch.input, { method, target: targets, params: paramsOf(method, preprocess), reductions: [reductionOf(method)] });
        for (let i = 0; i < n; i++) {
          const maps = [0, 1, 2, 3, 4].map((k) => mapOf(e, method, i, k));
          const measures = {} as Record<SensitivityPair, PairMeasures>;
          for (const pair of SENSITIVITY_PAIRS) {
            const [a, b] = slotOf[pair].map((k) => maps[k]!) as [ReturnType<typeof mapOf>, ReturnType<typeof mapOf>];
            measures[pair] = { l2: round(mapDistance(a, b)), spearman: round(classSensitivitySpearman(a, b)) };
          }
          methods[i]![method] = measures;
        }
      }
      return batch.samples.map((s, i) => ({
        index: s.entry.index,
        file: s.entry.file,
        label: s.entry.label,
        predicted: argmaxRow(logits, classes, i),
        classes: pairs[i]!,
        methods: methods[i]!,
      }));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

export interface SensitivityRow {
  name: string;
  label: string;
  /** Per pair: the normalized l2 distance and Spearman's ρ over images (NaN values skipped). */
  pairs: Record<SensitivityPair, { l2: Summary; spearman: Summary }>;
}

export interface SensitivitySummary {
  evaluation: 'sensitivity';
  images: number;
  classes: number;
  top1: number;
  rows: SensitivityRow[];
  maps: Record<string, MapKind>;
}

/** JSON turns NaN into null: read it back as NaN (an undefined ρ). */
const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

export function summarizeSensitivity(records: readonly SensitivityRecord[], config: SensitivityConfig): SensitivitySummary {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const rows = config.methods.map((m): SensitivityRow => {
    const pairs = {} as SensitivityRow['pairs'];
    for (const p of SENSITIVITY_PAIRS) {
      pairs[p] = {
        l2: summarize(sorted.map((r) => num(r.methods[m]?.[p].l2))),
        spearman: summarize(sorted.map((r) => num(r.methods[m]?.[p].spearman))),
      };
    }
    return { name: m, label: methodLabel(m), pairs };
  });
  return {
    evaluation: 'sensitivity',
    images: sorted.length,
    classes: new Set(sorted.map((r) => r.label)).size,
    top1: sorted.length ? sorted.filter((r) => r.predicted === r.label).length / sorted.length : NaN,
    rows,
    maps: Object.fromEntries(config.methods.map((m) => [m, mapKind(m)])),
  };
}
