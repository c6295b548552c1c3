/**
 * `eval adversarial`: Nie et al.'s adversarial test (§4.4, their Figure 8). A map that explains the
 * decision should change when an imperceptible perturbation changes the decision; a map that
 * recovers the image should not.
 *
 * Per batch: the logits of x (a forward pass) give the predicted class; the attack's class y is the
 * predicted one (default) or the label. One explain call of the plain gradient with the seed
 * softmax(z) − onehot(y) on the logits gives ∇ₓ CE(z, y) (src/metrics/fgsm.ts), and
 * x' = clip(x + ε/std_c · sign(∇ₓ CE), black, white) per channel c: ε is a step in [0, 1] pixel
 * units, turned into the normalized input space by the preprocessing's std, and x' stays within
 * the values of a black and a white pixel. A second forward pass gives the class predicted on x'.
 * Then each method explains x (its predicted class) and x' (its own predicted class) in one call,
 * and the record holds, per method, the distance between the two maps: the l2 distance of the
 * l2-normalized maps (NaN when a map is all zeros, `mapDistance`), Spearman's ρ (NaN when a map is
 * constant) and SSIM (min-max normalized, 11×11 Gaussian window; NaN for maps smaller than the
 * window). NaN values are left out of the means and counted. x' is not quantized to 8 bits.
 *
 * For the first `grid` images (by index) a figure is drawn while the image is evaluated: rows = x
 * and x', columns = the image and each method's map (drawn as in `backlight explain`), written to
 * `adversarial-<index>.png` in the output folder before the image's record, so a recorded image
 * always has its figure, in shards too.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { gridPng } from '../io/png.js';
import { pixelBounds, tensorToImage, type Preprocess } from '../io/preprocess.js';
import type { Explainer, TensorLike } from '../methods/explainer.js';
import { classSensitivitySpearman } from '../metrics/classSensitivity.js';
import { crossEntropy, crossEntropySeeds, fgsmStep } from '../metrics/fgsm.js';
import { ssim } from '../metrics/similarity.js';
import { summarize, type Summary } from '../metrics/stats.js';
import { DEFAULT_MAGNITUDE_COLORMAP, heatmapRGBA, layoutGrid, type RGBAImage } from '../render/index.js';
import { argmaxRow, softmaxAt, type Forward } from './forward.js';
import { mapDistance, mapKind, mapOf, methodLabel, paramsOf, reductionOf, type EvalMethodName, type MapKind } from './maps.js';
import type { BaseRecord } from './records.js';
import { round, type Batch, type Evaluation } from './runner.js';

/** The default FGSM step, in [0, 1] pixel units. */
export const DEFAULT_EPSILON = '2/255';

export interface AdversarialConfig {
  methods: EvalMethodName[];
  /** The FGSM step in [0, 1] pixel units. */
  epsilon: number;
  /** How ε was given (e.g. '2/255'), for reports. */
  epsilonText: string;
  /** The class whose cross-entropy the attack increases. */
  target: 'predicted' | 'label';
  /** Figures for the images with index < grid. */
  grid: number;
}

/** Distances between the map of x and the map of x'. */
export interface MapChange {
  l2: number;
  spearman: number;
  ssim: number;
}

export interface AdversarialRecord extends BaseRecord {
  /** The class attacked (the prediction on x, or the label). */
  target: number;
  before: { predicted: number; prob: number; loss: number };
  /** `prob` is that of the class predicted on x'; `loss` the cross-entropy of the attacked class. */
  after: { predicted: number; prob: number; loss: number };
  /** The prediction changed. */
  flip: boolean;
  /** max |x' − x| in pixel units (≤ ε; smaller where clipping at black or white bit). */
  linf: number;
  methods: Record<string, MapChange>;
  /** The figure's file name, for the first images. */
  figure?: string;
}

/** The per-channel step in normalized units and the clipping bounds of a preprocessing. */
export function fgsmGeometry(preprocess: Preprocess, epsilon: number): { step: number[]; bounds: { low: number[]; high: number[] } } {
  return { step: preprocess.std.map((s) => epsilon / s), bounds: pixelBounds(preprocess) };
}

/**
 * FGSM on a batch: the gradient of the cross-entropy of `targets` (computed by the explanation
 * graph of the plain gradient), and the perturbed inputs.
 */
export async function fgsm(explainer: Explainer, input: TensorLike, logits: Float32Array, classes: number, targets: readonly number[], geometry: ReturnType<typeof fgsmGeometry>): Promise<{ adversarial: TensorLike; gradient: Float32Array }> {
  const seeds = crossEntropySeeds(logits, classes, targets);
  const e = await explainer.explain(input, { method: 'gradient', target: { seeds, k: 1 }, reductions: [] });
  const gradient = e.attribution.data;
  return { adversarial: { data: fgsmStep(input.data, gradient, input.dims, geometry), dims: [...input.dims] }, gradient };
}

/** The largest |x' − x| of image i, in pixel units (per channel: × std). */
function linfPixels(x: Float32Array, y: Float32Array, dims: readonly number[], i: number, std: readonly number[]): number {
  const [, c, h, w] = dims as [number, number, number, number];
  const plane = h * w;
  let worst = 0;
  for (let j = i * c * plane; j < (i + 1) * c * plane; j++) worst = Math.max(worst, Math.abs(y[j]! - x[j]!) * std[Math.floor(j / plane) % c]!);
  return worst;
}

const SSIM_WINDOW = 11;

function mapChange(a: ReturnType<typeof mapOf>, b: ReturnType<typeof mapOf>): MapChange {
  const s = a.width >= SSIM_WINDOW && a.height >= SSIM_WINDOW ? ssim(a, b) : NaN;
  return { l2: round(mapDistance(a, b)), spearman: round(classSensitivitySpearman(a, b)), ssim: round(s) };
}

/**
 * Figure tiles: inputs smaller than 96 px are scaled up by an integer factor to at least 96 px
 * (nearest: pixels stay sharp, and the PNG small), larger ones down to 128 px (bilinear).
 */
export function figureTile(width: number, height: number): { width: number; height: number; resample: 'nearest' | 'bilinear' } {
  const side = Math.max(width, height);
  if (side < 96) {
    const f = Math.ceil(96 / side);
    return { width: width * f, height: height * f, resample: 'nearest' };
  }
  const f = Math.min(1, 128 / side);
  return { width: Math.round(width * f), height: Math.round(height * f), resample: 'bilinear' };
}

export function adversarialEvaluation(explainer: Explainer, forward: Forward, preprocess: Preprocess, config: AdversarialConfig, out: string, labels: readonly string[] | null): Evaluation<AdversarialRecord> {
  const geometry = fgsmGeometry(preprocess, config.epsilon);
  const className = (c: number): string => (labels?.[c] ? `${c} ${labels[c]}` : String(c));
  return {
    async process(batch: Batch): Promise<AdversarialRecord[]> {
      const n = batch.samples.length;
      const x = batch.input;
      const before = await forward.logits(x.data, n);
      const classes = before.classes;
      const predicted = Array.from({ length: n }, (_, i) => argmaxRow(before.data, classes, i));
      const targets = batch.samples.map((s, i) => (config.target === 'label' ? s.entry.label : predicted[i]!));
      const { adversarial } = await fgsm(explainer, x, before.data, classes, targets, geometry);
      const after = await forward.logits(adversarial.data, n);
      const predictedAfter = Array.from({ length: n }, (_, i) => argmaxRow(after.data, classes, i));

      // x and x' stacked: each method explains both in one call, each for its own prediction.
      const both: TensorLike = { data: new Float32Array(2 * x.data.length), dims: [2 * n, ...x.dims.slice(1)] };
      both.data.set(x.data, 0);
      both.data.set(adversarial.data, x.data.length);
      const bothTargets = [...predicted, ...predictedAfter].map((c) => [c]);
      const changes: Record<string, MapChange>[] = batch.samples.map(() => ({}));
      const figures: RGBAImage[][][] = batch.samples.map(() => [[], []]);
      const drawn = batch.samples.map((s) => s.entry.index < config.grid);
      for (const method of config.methods) {
        const e = await explainer.explain(both, { method, target: bothTargets, params: paramsOf(method, preprocess), reductions: [reductionOf(method)] });
        for (let i = 0; i < n; i++) {
          const a = mapOf(e, method, i);
          const b = mapOf(e, method, n + i);
          changes[i]![method] = mapChange(a, b);
          if (drawn[i]) for (const [row, m] of [a, b].entries()) figures[i]![row]!.push(heatmapRGBA(m.data, m.width, m.height, { signed: false, colormap: DEFAULT_MAGNITUDE_COLORMAP }));
        }
      }

      const records: AdversarialRecord[] = [];
      for (let i = 0; i < n; i++) {
        const s = batch.samples[i]!;
        const y = targets[i]!;
        const record: AdversarialRecord = {
          index: s.entry.index,
          file: s.entry.file,
          label: s.entry.label,
          target: y,
          before: { predicted: predicted[i]!, prob: round(softmaxAt(before.data, classes, i, predicted[i]!), 8), loss: round(crossEntropy(before.data, classes, i, y)) },
          after: { predicted: predictedAfter[i]!, prob: round(softmaxAt(after.data, classes, i, predictedAfter[i]!), 8), loss: round(crossEntropy(after.data, classes, i, y)) },
          flip: predictedAfter[i] !== predicted[i],
          linf: round(linfPixels(x.data, adversarial.data, x.dims, i, preprocess.std), 8),
          methods: changes[i]!,
        };
        if (drawn[i]) {
          record.figure = `adversarial-${s.entry.index}.png`;
          const images = [tensorToImage(x, preprocess, i), tensorToImage(adversarial, preprocess, i)];
          const { resample, ...tile } = figureTile(preprocess.width, preprocess.height);
          const rowLabel = (what: string, r: AdversarialRecord['before']): string => `${what}: ${className(r.predicted)} (p=${r.prob.toFixed(3)})`;
          const layout = layoutGrid({
            rows: [rowLabel('x', record.before), rowLabel("x'", record.after)],
            columns: config.methods.map(methodLabel),
            tile,
            input: 'each-row',
            inputLabel: 'image',
            title: `${s.entry.file}: FGSM ε = ${config.epsilonText}${record.flip ? '' : ' (prediction unchanged)'}`,
            fontSize: 12,
          });
          await writeFileAtomic(join(out, record.figure), await gridPng(layout, { input: images, cells: figures[i]! }, { resample }));
        }
        records.push(record);
      }
      return records;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Summary

export const ADVERSARIAL_SUBSETS = ['all', 'flipped'] as const;
export type AdversarialSubset = (typeof ADVERSARIAL_SUBSETS)[number];

export interface AdversarialRow {
  name: string;
  label: string;
  subsets: Record<AdversarialSubset, { l2: Summary; spearman: Summary; ssim: Summary }>;
}

export interface AdversarialSummary {
  evaluation: 'adversarial';
  images: number;
  classes: number;
  epsilon: number;
  epsilonText: string;
  target: 'predicted' | 'label';
  /** Images whose prediction changed, and their share. */
  flips: number;
  flipRate: number;
  /** Share of images whose prediction is the label, on x and on x'. */
  top1Before: number;
  top1After: number;
  /** Mean cross-entropy of the attacked class on x and on x'. */
  lossBefore: Summary;
  lossAfter: Summary;
  /** Largest |x' − x| over the images, pixel units. */
  linf: number;
  rows: AdversarialRow[];
  /** The figures of the first images, by index. */
  figures: { index: number; file: string; flip: boolean }[];
  maps: Record<string, MapKind>;
}

const num = (v: number | null | undefined): number => (typeof v === 'number' ? v : NaN);

export function summarizeAdversarial(records: readonly AdversarialRecord[], config: AdversarialConfig): AdversarialSummary {
  const sorted = [...records].sort((a, b) => a.index - b.index);
  const inSubset = (r: AdversarialRecord, s: AdversarialSubset): boolean => s === 'all' || r.flip;
  const rows = config.methods.map((m): AdversarialRow => {
    const subsets = {} as AdversarialRow['subsets'];
    for (const s of ADVERSARIAL_SUBSETS) {
      const rs = sorted.filter((r) => inSubset(r, s));
      subsets[s] = {
        l2: summarize(rs.map((r) => num(r.methods[m]?.l2))),
        spearman: summarize(rs.map((r) => num(r.methods[m]?.spearman))),
        ssim: summarize(rs.map((r) => num(r.methods[m]?.ssim))),
      };
    }
    return { name: m, label: methodLabel(m), subsets };
  });
  const flips = sorted.filter((r) => r.flip).length;
  const share = (f: (r: AdversarialRecord) => boolean): number => (sorted.length ? sorted.filter(f).length / sorted.length : NaN);
  return {
    evaluation: 'adversarial',
    images: sorted.length,
    classes: new Set(sorted.map((r) => r.label)).size,
    epsilon: config.epsilon,
    epsilonText: config.epsilonText,
    target: config.target,
    flips,
    flipRate: sorted.length ? flips / sorted.length : NaN,
    top1Before: share((r) => r.before.predicted === r.label),
    top1After: share((r) => r.after.predicted === r.label),
    lossBefore: summarize(sorted.map((r) => r.before.loss)),
    lossAfter: summarize(sorted.map((r) => r.after.loss)),
    linf: sorted.reduce((m, r) => Math.max(m, r.linf), 0),
    rows,
    figures: sorted.filter((r) => r.figure).map((r) => ({ index: r.index, file: r.figure!, flip: r.flip })),
    maps: Object.fromEntries(config.methods.map((m) => [m, mapKind(m)])),
  };
}
