/**
 * `eval pointing`: the pointing game (Zhang et al.) and its energy-threshold variant (Gu et al.
 * §5.2, their Figure 4), for every method, explaining the ground-truth class of each image.
 *
 * Per image (one record): the boxes in model-input pixels, the share of the image they cover, and
 * - for each method: the map's first maximum (x, y), its distance to the boxes, hit (distance ≤
 *   tolerance, default 15 px), and the energy game at every level p: hit (all kept pixels inside the
 *   union of the boxes) and the share of the kept energy inside;
 * - the baselines: the centre point, one random pixel (seeded by the run's seed and the image's
 *   index) and the exact expected hit of a random pixel (the share of pixels within tolerance).
 * Maps: see maps.ts (max |·| over channels; the positive part of the channel sum for LRP).
 *
 * The summary (from the records only, with the metrics library's `HitAccumulator`) gives accuracy
 * over images and over classes (mean of per-class accuracies) for each method and baseline, on all
 * images, on the small objects (boxes cover < 50 % of the image) and on the "difficult" ones (small
 * and missed by the centre point), and the energy curves (accuracy and mean inside share per p).
 */
import type { Explainer } from '../methods/explainer.js';
import { boxesAreaFraction, boxesMask } from '../metrics/boxes.js';
import { energyPointingSweep, ENERGY_LEVELS } from '../metrics/energyPointing.js';
import { centerPoint, expectedRandomHit, HitAccumulator, pointingHit, pointingTrial, randomPoint, type PointingAccuracy } from '../metrics/pointingGame.js';
import { mulberry32 } from '../metrics/random.js';
import type { Preprocess } from '../io/preprocess.js';
import { argmaxRow } from './forward.js';
import { mapKind, mapOf, methodLabel, paramsOf, reductionOf, type EvalMethodName } from './maps.js';
import type { BaseRecord } from './records.js';
import { imageSeed, round, type Batch, type Evaluation } from './runner.js';

export interface PointingConfig {
  methods: EvalMethodName[];
  tolerance: number;
  /** Energy levels p (percent). */
  levels: number[];
  seed: number;
  /** Small objects: boxes cover less than this share of the image. */
  smallThreshold: number;
}

export const DEFAULT_POINTING: Omit<PointingConfig, 'methods'> = {
  tolerance: 15,
  levels: [...ENERGY_LEVELS],
  seed: 0,
  smallThreshold: 0.5,
};

export interface PointingMethodRecord {
  x: number;
  y: number;
  distance: number;
  hit: boolean;
  /** Energy game hit (1) or miss (0) at each level of the configuration. */
  energyHit: number[];
  /** Share of the kept energy inside the boxes at each level. */
  energyInside: number[];
}

export interface PointingRecord extends BaseRecord {
  /** Model input size. */
  width: number;
  height: number;
  /** In model-input pixels. */
  boxes: number[][];
  /** Share of the input's pixels inside the union of the boxes. */
  boxFraction: number;
  small: boolean;
  predicted: number;
  center: { distance: number; hit: boolean };
  random: { x: number; y: number; hit: boolean };
  /** Expected hit of a uniformly random pixel. */
  randomExpected: number;
  methods: Record<string, PointingMethodRecord>;
}

/** The per-image part of the pointing evaluation. */
export function pointingEvaluation(explainer: Explainer, preprocess: Preprocess, config: PointingConfig): Evaluation<PointingRecord> {
  return {
    accepts: (entry) => (entry.boxes?.length ?? 0) > 0,
    async process(batch: Batch): Promise<PointingRecord[]> {
      const n = batch.samples.length;
      const targets = batch.samples.map((s) => [s.entry.label]);
      const perMethod: Record<string, PointingMethodRecord[]> = {};
      let predicted: number[] = [];
      const masks = batch.samples.map((s) => boxesMask(s.boxes!, preprocess.width, preprocess.height));
      for (const method of config.methods) {
        const e = await explainer.explain(batch.input, { method, target: targets, params: paramsOf(method, preprocess), reductions: [reductionOf(method)] });
        if (predicted.length === 0) {
          const classes = e.logits.dims[1]!;
          predicted = Array.from({ length: n }, (_, i) => argmaxRow(e.logits.data, classes, i));
        }
        perMethod[method] = batch.samples.map((s, i) => {
          const map = mapOf(e, method, i);
          const t = pointingHit(map, s.boxes!, config.tolerance);
          const sweep = energyPointingSweep(map, masks[i]!, config.levels);
          return {
            x: t.x,
            y: t.y,
            distance: round(t.distance, 4),
            hit: t.hit,
            energyHit: sweep.map((r) => (r.hit ? 1 : 0)),
            energyInside: sweep.map((r) => round(r.insideFraction)),
          };
        });
      }
      return batch.samples.map((s, i): PointingRecord => {
        const { width, height } = preprocess;
        const boxes = s.boxes!;
        const c = centerPoint(width, height);
        const center = pointingTrial(c.x, c.y, boxes, config.tolerance);
        const r = randomPoint(width, height, mulberry32(imageSeed(config.seed, s.entry.index)));
        const random = pointingTrial(r.x, r.y, boxes, config.tolerance);
        const boxFraction = boxesAreaFraction(boxes, width, height);
        const methods: Record<string, PointingMethodRecord> = {};
        for (const m of config.methods) methods[m] = perMethod[m]![i]!;
        return {
          index: s.entry.index,
          file: s.entry.file,
          label: s.entry.label,
          width,
          height,
          boxes: boxes.map((b) => b.map((v) => round(v, 4))),
          boxFraction: round(boxFraction),
          small: boxFraction < config.smallThreshold,
          predicted: predicted[i]!,
          center: { distance: round(center.distance, 4), hit: center.hit },
          random: { x: r.x, y: r.y, hit: random.hit },
          randomExpected: round(expectedRandomHit(boxes, width, height, config.tolerance)),
          methods,
        };
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

export const POINTING_SUBSETS = ['all', 'small', 'difficult'] as const;
export type PointingSubset = (typeof POINTING_SUBSETS)[number];

export const SUBSET_TEXT: Record<PointingSubset, string> = {
  all: 'all images',
  small: 'small objects (boxes cover < 50 % of the image)',
  difficult: 'difficult: small objects whose boxes the centre point misses',
};

/** A method or a baseline, with its accuracy on each subset. */
export interface PointingRow {
  name: string;
  label: string;
  kind: 'method' | 'baseline';
  subsets: Record<PointingSubset, Omit<PointingAccuracy, 'perClass'>>;
}

export interface EnergySummary {
  levels: number[];
  /** Per subset: images, accuracy per level, mean inside share per level. */
  subsets: Record<PointingSubset, { images: number; accuracy: number[]; meanInsideFraction: number[] }>;
}

export interface PointingSummary {
  evaluation: 'pointing';
  images: number;
  classes: number;
  tolerance: number;
  smallThreshold: number;
  /** Images per subset. */
  subsetImages: Record<PointingSubset, number>;
  /** Share of images whose predicted class is the label (top-1 on the evaluated images). */
  top1: number;
  rows: PointingRow[];
  energy: Record<string, EnergySummary>;
  /** Per-class accuracy on all images, per row name. */
  perClass: Record<string, { classId: number; images: number; hits: number; accuracy: number }[]>;
  maps: Record<string, string>;
}

const BASELINES: { name: string; label: string; hit: (r: PointingRecord) => boolean | number }[] = [
  { name: 'center', label: 'Centre point', hit: (r) => r.center.hit },
  { name: 'random', label: 'Random point (sampled)', hit: (r) => r.random.hit },
  { name: 'random-expected', label: 'Random point (expected)', hit: (r) => r.randomExpected },
];

function inSubset(r: PointingRecord, s: PointingSubset): boolean {
  if (s === 'all') return true;
  if (s === 'small') return r.small;
  return r.small && !r.center.hit;
}

/** Summarizes records (in index order) with the metrics library's accumulators. */
export function summarizePointing(records: readonly PointingRecord[], config: PointingConfig): PointingSummary {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const rowsSpec = [
    ...config.methods.map((m) => ({ name: m as string, label: methodLabel(m), kind: 'method' as const, hit: (r: PointingRecord) => r.methods[m]!.hit })),
    ...BASELINES.map((b) => ({ ...b, kind: 'baseline' as const })),
  ];
  const perClass: PointingSummary['perClass'] = {};
  const rows: PointingRow[] = rowsSpec.map((spec) => {
    const subsets = {} as PointingRow['subsets'];
    for (const s of POINTING_SUBSETS) {
      const acc = new HitAccumulator();
      for (const r of sorted) if (inSubset(r, s)) acc.add(r.label, spec.hit(r));
      const { perClass: pc, ...rest } = acc.result();
      subsets[s] = rest;
      if (s === 'all') perClass[spec.name] = pc;
    }
    return { name: spec.name, label: spec.label, kind: spec.kind, subsets };
  });
  const energy: Record<string, EnergySummary> = {};
  for (const m of config.methods) {
    const subsets = {} as EnergySummary['subsets'];
    for (const s of POINTING_SUBSETS) {
      const hits = new Float64Array(config.levels.length);
      const inside = new Float64Array(config.levels.length);
      let images = 0;
      for (const r of sorted) {
        if (!inSubset(r, s)) continue;
        const rec = r.methods[m]!;
        for (let k = 0; k < config.levels.length; k++) {
          hits[k]! += rec.energyHit[k]!;
          inside[k]! += rec.energyInside[k]!;
        }
        images++;
      }
      subsets[s] = {
        images,
        accuracy: Array.from(hits, (h) => (images ? h / images : NaN)),
        meanInsideFraction: Array.from(inside, (v) => (images ? v / images : NaN)),
      };
    }
    energy[m] = { levels: [...config.levels], subsets };
  }
  const subsetImages = Object.fromEntries(POINTING_SUBSETS.map((s) => [s, sorted.filter((r) => inSubset(r, s)).length])) as Record<PointingSubset, number>;
  return {
    evaluation: 'pointing',
    images: sorted.length,
    classes: new Set(sorted.map((r) => r.label)).size,
    tolerance: config.tolerance,
    smallThreshold: config.smallThreshold,
    subsetImages,
    top1: sorted.length ? sorted.filter((r) => r.predicted === r.label).length / sorted.length : NaN,
    rows,
    energy,
    perClass,
    maps: Object.fromEntries(config.methods.map((m) => [m, mapKind(m)])),
  };
}
