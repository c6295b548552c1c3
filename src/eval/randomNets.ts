/**
 * Nie et al.'s random-network experiments (2018, §3–4): backpropagation maps of networks whose
 * weights are random (the model builder's, truncated normal with std 0.1, biases 0), so that a map
 * resembling the input is image recovery, not an explanation.
 *
 * Networks (src/builder/models.ts):
 * - `cnn`: the random 3-layer CNN — conv 7×7, N filters, stride 2, ReLU, dense to 10 logits;
 * - `cnn-maxpool`: the same with a 2×2 max-pooling after the ReLU (their Figure 6, top);
 * - `fcn`: the random 3-layer fully connected net — dense N_h, ReLU, dense to 10 logits;
 * - `vgg16`: a random VGG-16 (their Figure 6, bottom), 1000 logits.
 * Methods: the gradient (saliency map), DeconvNet and Guided Backprop, each explaining the two
 * highest logits ('top2') in one call.
 *
 * Measures per image (src/metrics/randomization.ts, src/metrics/classSensitivity.ts):
 * - recovery of the input by the map of the top class: Pearson's r between the signed attribution
 *   and the input tensor over all C·H·W values, and the mean per-channel SSIM (Theorem 1: GBP in a
 *   random CNN gives s ≈ x; Theorem 2: the gradient and DeconvNet give noise);
 * - class distance: the l2 distance between the l2-normalized max |·| maps of the top two classes
 *   (§4.3; 0 when the map ignores the class).
 */
import type { ModelSpec } from '../builder/models.js';
import type { Explainer, Target, TensorLike } from '../methods/explainer.js';
import type { MethodName } from '../methods/methods.js';
import { normalizedL2Distance } from '../metrics/classSensitivity.js';
import { imageRecovery, type Recovery } from '../metrics/randomization.js';
import { summarize, type Summary } from '../metrics/stats.js';
import { paddedBatches, stackImages } from './batches.js';

/** The methods of the experiments, in Nie et al.'s column order (GBP, DeconvNet, saliency map). */
export const RANDOM_NET_METHODS: readonly MethodName[] = ['guided-backprop', 'deconvnet', 'gradient'];

export const RANDOM_NET_KINDS = ['cnn', 'cnn-maxpool', 'fcn', 'vgg16'] as const;
export type RandomNetKind = (typeof RANDOM_NET_KINDS)[number];

/** The papers' initialization of random networks. */
export const RANDOM_INIT = { kind: 'truncated-normal', std: 0.1 } as const;

export const RANDOM_NETS: Record<RandomNetKind, { label: string; width: 'N' | 'N_h' | null; describe: (width: number | null) => string }> = {
  cnn: { label: 'CNN', width: 'N', describe: (n) => `random 3-layer CNN: conv 7×7, ${n} filters, stride 2, ReLU, dense` },
  'cnn-maxpool': { label: 'CNN + max-pool', width: 'N', describe: (n) => `the same CNN (${n} filters) with 2×2 max-pooling after the ReLU` },
  fcn: { label: 'FCN', width: 'N_h', describe: (n) => `random 3-layer fully connected net, ${n} hidden units` },
  vgg16: { label: 'VGG-16', width: null, describe: () => 'random VGG-16 (13 conv layers, 5 max-poolings, 3 dense)' },
};

/** A row label: the net and its width ("CNN (N = 256)"). */
export function netLabel(kind: RandomNetKind, width: number | null): string {
  const n = RANDOM_NETS[kind];
  return n.width && width !== null ? `${n.label} (${n.width} = ${width})` : n.label;
}

/** The builder spec of a random network for inputs of `channels` × `size` × `size`. */
export function randomNetSpec(kind: RandomNetKind, o: { size: number; channels: number; width: number | null; seed: number }): ModelSpec {
  const common = { inputSize: o.size, channels: o.channels, seed: o.seed, init: RANDOM_INIT };
  switch (kind) {
    case 'cnn':
      return { model: 'cnn3', ...common, filters: o.width ?? 256 };
    case 'cnn-maxpool':
      return { model: 'cnn3', ...common, filters: o.width ?? 256, maxPool: true };
    case 'fcn':
      return { model: 'fcn3', ...common, hidden: o.width ?? 4096 };
    case 'vgg16':
      return { model: 'vgg16', ...common };
  }
}

/** One method's results on a batch of images. */
export interface NetMeasure {
  method: MethodName;
  /** Per image: recovery of the input by the map of the first target. */
  recovery: Recovery[];
  /** Per image: normalized l2 distance between the max |·| maps of the first two targets. */
  classDistance: number[];
  /** The first target's attribution, [N, C, H, W]. */
  attribution: Float32Array;
  /** The first target's max |·| map, [N, H, W]. */
  maxabs: Float32Array;
}

/**
 * Explains the images `x` ([N, C, H, W]) with each method, for two targets (`target` must name
 * two per image, e.g. 'top2' or [0, 1]), in explain calls of `batch` images (default: all).
 */
export async function measureRandomNet(ex: Explainer, x: TensorLike, methods: readonly MethodName[], target: Target, batch?: number): Promise<NetMeasure[]> {
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const per = c * h * w;
  const size = h * w;
  const image = (i: number): Float32Array => x.data.subarray(i * per, (i + 1) * per);
  const out: NetMeasure[] = [];
  for (const method of methods) {
    const m: NetMeasure = { method, recovery: [], classDistance: [], attribution: new Float32Array(n * per), maxabs: new Float32Array(n * size) };
    for (const b of paddedBatches(Array.from({ length: n }, (_, i) => i), Math.min(n, batch ?? n))) {
      const r = await ex.explain(stackImages(b.items.map(image), x.dims), { method, target, reductions: ['maxabs'] });
      const k = r.attribution.dims[1]!;
      if (k < 2) throw new Error(`measureRandomNet: the target must name two classes per image, got ${k}`);
      for (let j = 0; j < b.real; j++) {
        const i = b.items[j]!;
        const attribution = r.attributionAt(j, 0);
        const map = (slot: number) => ({ data: r.mapAt('maxabs', j, slot), width: w, height: h });
        m.recovery[i] = imageRecovery({ data: attribution, dims: [c, h, w] }, { data: image(i), dims: [c, h, w] });
        m.classDistance[i] = normalizedL2Distance(map(0), map(1));
        m.attribution.set(attribution, i * per);
        m.maxabs.set(map(0).data, i * size);
      }
    }
    out.push(m);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The sweep

export interface RandomNetsSettings {
  methods: MethodName[];
  /** N of the CNNs (with and without max-pooling). */
  filters: number[];
  /** N_h of the FCN. */
  hidden: number[];
  seeds: number[];
  /** The widths of the maps grid (Figures 4 and 6). */
  gridFilters: number;
  gridHidden: number;
  vgg: boolean;
  /** Images per explain call. */
  batch: number;
  /** Images whose maps are drawn. */
  figureImages: number;
}

/** One network (kind, width, seed) and one method: the per-image measures. */
export interface RandomNetRun {
  net: RandomNetKind;
  width: number | null;
  seed: number;
  method: MethodName;
  pearson: number[];
  ssim: number[];
  classDistance: number[];
}

/** Attributions of the figure images, [F, C, H, W], by net key (`netKey`) and method. */
export type FigureMaps = Map<string, Map<MethodName, Float32Array>>;

export const netKey = (net: RandomNetKind, width: number | null): string => `${net}/${width ?? ''}`;

/** Every network of the sweep, in order: CNN and CNN + max-pool over N, FCN over N_h, VGG-16; each seed. */
export function sweepNets(s: RandomNetsSettings): { net: RandomNetKind; width: number | null; seed: number }[] {
  const list: { net: RandomNetKind; width: number | null; seed: number }[] = [];
  for (const net of ['cnn', 'cnn-maxpool'] as const) for (const width of s.filters) for (const seed of s.seeds) list.push({ net, width, seed });
  for (const width of s.hidden) for (const seed of s.seeds) list.push({ net: 'fcn', width, seed });
  if (s.vgg) for (const seed of s.seeds) list.push({ net: 'vgg16', width: null, seed });
  return list;
}

/**
 * Runs every network of the sweep on the images `x` ([N, C, H, W]). `build` turns a spec into
 * model bytes and `load` into an explainer. Keeps the attributions of the first `figureImages`
 * images for the first seed: every method at the grid widths (and VGG-16), Guided Backprop (or
 * the first method) at every width.
 */
export async function runRandomNets(
  x: TensorLike,
  s: RandomNetsSettings,
  build: (spec: ModelSpec) => Uint8Array,
  load: (bytes: Uint8Array, source: string) => Promise<Explainer>,
  onNet?: (done: number, total: number, label: string) => void,
): Promise<{ runs: RandomNetRun[]; figures: FigureMaps }> {
  const [n, c, h, w] = x.dims as [number, number, number, number];
  const figureCount = Math.min(n, s.figureImages);
  const per = c * h * w;
  const nets = sweepNets(s);
  const runs: RandomNetRun[] = [];
  const figures: FigureMaps = new Map();
  const sweepMethod = s.methods.includes('guided-backprop') ? 'guided-backprop' : s.methods[0]!;
  for (const [k, spec] of nets.entries()) {
    onNet?.(k, nets.length, `${netLabel(spec.net, spec.width)}, seed ${spec.seed}`);
    const bytes = build(randomNetSpec(spec.net, { size: h, channels: c, width: spec.width, seed: spec.seed }));
    const ex = await load(bytes, netLabel(spec.net, spec.width));
    let measures: NetMeasure[];
    try {
      measures = await measureRandomNet(ex, x, s.methods, 'top2', s.batch);
    } finally {
      await ex.release();
    }
    const first = spec.seed === s.seeds[0];
    const gridWidth = spec.net === 'fcn' ? s.gridHidden : spec.net === 'vgg16' ? null : s.gridFilters;
    for (const m of measures) {
      runs.push({ net: spec.net, width: spec.width, seed: spec.seed, method: m.method, pearson: m.recovery.map((r) => r.pearson), ssim: m.recovery.map((r) => r.ssim), classDistance: m.classDistance });
      if (first && figureCount > 0 && (spec.width === gridWidth || m.method === sweepMethod)) {
        const key = netKey(spec.net, spec.width);
        if (!figures.has(key)) figures.set(key, new Map());
        figures.get(key)!.set(m.method, m.attribution.slice(0, figureCount * per));
      }
    }
  }
  onNet?.(nets.length, nets.length, '');
  return { runs, figures };
}

export interface RandomNetsRow {
  net: RandomNetKind;
  width: number | null;
  method: MethodName;
  /** Over every image and seed. */
  pearson: Summary;
  ssim: Summary;
  classDistance: Summary;
}

/** Per net, width and method: the summary statistics over every image and seed. */
export function summarizeRandomNets(runs: readonly RandomNetRun[]): RandomNetsRow[] {
  const groups = new Map<string, RandomNetRun[]>();
  for (const r of runs) {
    const key = `${netKey(r.net, r.width)}/${r.method}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    net: g[0]!.net,
    width: g[0]!.width,
    method: g[0]!.method,
    pearson: summarize(g.flatMap((r) => r.pearson)),
    ssim: summarize(g.flatMap((r) => r.ssim)),
    classDistance: summarize(g.flatMap((r) => r.classDistance)),
  }));
}
