/**
 * Which 2-D map of an explanation the evaluations score, per method:
 * - methods drawn as magnitudes (`METHODS[m].display === 'magnitude'`: the gradient family,
 *   CLRP, excitation backprop): max |·| over channels (Simonyan et al.'s saliency map);
 * - relevance methods (`display === 'signed'`: the LRP variants): the channel sum with negative
 *   values set to 0 (the positive evidence; LRP's convention is to sum relevance over channels).
 * Both are non-negative, as the energy pointing game needs. The zB rule of the LRP composites
 * (lrp, clrp1, clrp2 with the default gu2018 composite) gets its pixel bounds from the
 * preprocessing: `pixelBounds` = the normalized values of a black and a white pixel.
 */
import { pixelBounds, type Preprocess } from '../io/preprocess.js';
import type { Explanation, TensorLike } from '../methods/explainer.js';
import { METHODS, type MethodName, type MethodParams } from '../methods/methods.js';
import type { MetricMap } from '../metrics/types.js';
import type { Reduction } from '../compile/compile.js';

export type MapKind = 'maxabs' | 'positive-sum';

export function mapKind(method: MethodName): MapKind {
  return METHODS[method].display === 'signed' ? 'positive-sum' : 'maxabs';
}

/** One line per kind, for reports. */
export const MAP_KIND_TEXT: Record<MapKind, string> = {
  maxabs: 'max |·| over channels',
  'positive-sum': 'sum over channels, negatives set to 0',
};

/** The reduction the explainer computes for a method's map. */
export function reductionOf(method: MethodName): Reduction {
  return mapKind(method) === 'maxabs' ? 'maxabs' : 'sum';
}

/** Methods whose rules use the zB rule with the default composite. */
const ZB_METHODS: readonly MethodName[] = ['lrp', 'clrp1', 'clrp2'];

/** The parameters a method is run with: none, or for the zB composites the preprocessing's pixel box. */
export function paramsOf(method: MethodName, preprocess: Preprocess): MethodParams {
  if (!ZB_METHODS.includes(method)) return {};
  const { low, high } = pixelBounds(preprocess);
  return { box: { low, high } };
}

/** The map of image `i` (target 0) of an explanation, as a metric map (non-negative). */
export function mapOf(explanation: Explanation, method: MethodName, i: number): MetricMap & { data: Float32Array } {
  const t = explanation.maps[reductionOf(method)] as TensorLike;
  const [, k, h, w] = t.dims as [number, number, number, number];
  const size = h * w;
  const src = t.data.subarray(i * k * size, i * k * size + size);
  const data = Float32Array.from(src);
  if (mapKind(method) === 'positive-sum') for (let j = 0; j < size; j++) if (data[j]! < 0) data[j] = 0;
  return { data, width: w, height: h };
}
