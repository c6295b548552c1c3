/**
 * Which 2-D map of an explanation the evaluations score, per method:
 * - methods drawn as magnitudes (`methodSpec(m).display === 'magnitude'`: the gradient family,
 *   CLRP, excitation backprop): max |·| over channels (Simonyan et al.'s saliency map);
 * - relevance methods (`display === 'signed'`: the LRP variants): the channel sum with negative
 *   values set to 0 (the positive evidence; LRP's convention is to sum relevance over channels);
 * - layer-map methods (Grad-CAM, NormGrad: one non-negative channel upsampled to the input; Guided
 *   Grad-CAM: Guided Backprop ⊙ Grad-CAM): max |·| over channels, i.e. the map itself for the
 *   one-channel ones. They use their default layer (`Explainer.defaultLayer`).
 * All are non-negative, as the energy pointing game needs. The zB rule of the LRP composites
 * (lrp, clrp1, clrp2 with the default gu2018 composite) gets its pixel bounds from the
 * preprocessing: `pixelBounds` = the normalized values of a black and a white pixel.
 */
import { pixelBounds, type Preprocess } from '../io/preprocess.js';
import { DEFAULT_COMPOSITE, methodNames, methodSpec, usesZBox, type ExplainMethodName, type Explanation, type MethodParams, type Reduction } from '../core.js';
import { normalizedL2Distance } from '../metrics/classSensitivity.js';
import type { MetricMap } from '../metrics/types.js';

/** The methods an evaluation can score: the backward methods and the layer-map methods. */
export type EvalMethodName = ExplainMethodName;
/** Every registered method (read when asked, so that registered methods are included). */
export const evalMethodNames = (): EvalMethodName[] => methodNames() as EvalMethodName[];

export type MapKind = 'maxabs' | 'positive-sum';

export function mapKind(method: EvalMethodName): MapKind {
  return methodSpec(method).display === 'signed' ? 'positive-sum' : 'maxabs';
}

export { methodLabel } from '../core.js';

/** One line per kind, for reports. */
export const MAP_KIND_TEXT: Record<MapKind, string> = {
  maxabs: 'max |·| over channels',
  'positive-sum': 'sum over channels, negatives set to 0',
};

/** The reduction the explainer computes for a method's map. */
export function reductionOf(method: EvalMethodName): Reduction {
  return mapKind(method) === 'maxabs' ? 'maxabs' : 'sum';
}

/**
 * The parameters a method is run with in evaluations:
 * - the zB composites get the preprocessing's pixel box;
 * - methods seeded with the target's logit by default (the LRP family) get a unit seed: every rule
 *   is positively homogeneous in the seed, so only its sign matters, and a class with a negative
 *   logit would otherwise have its map negated (its positive part would be the evidence against it).
 */
export function paramsOf(method: EvalMethodName, preprocess: Preprocess): MethodParams {
  const params: MethodParams = {};
  const spec = methodSpec(method);
  if (spec.kind === 'backward' && spec.seedScale === 'logit') params.seed = 'one';
  if (usesZBox(method, DEFAULT_COMPOSITE)) {
    const { low, high } = pixelBounds(preprocess);
    params.box = { low, high };
  }
  return params;
}

/** The map of image `i`, target `k` (default 0) of an explanation, as a metric map (non-negative). */
export function mapOf(explanation: Pick<Explanation<EvalMethodName>, 'maps' | 'mapAt'>, method: EvalMethodName, i: number, k = 0): MetricMap & { data: Float32Array } {
  const reduction = reductionOf(method);
  const [, , h, w] = explanation.maps[reduction]!.dims as [number, number, number, number];
  const size = h * w;
  const data = Float32Array.from(explanation.mapAt(reduction, i, k));
  if (mapKind(method) === 'positive-sum') for (let j = 0; j < size; j++) if (data[j]! < 0) data[j] = 0;
  return { data, width: w, height: h };
}

/**
 * The l2 distance between two l2-normalized maps (Nie et al.), or NaN when either map is all zeros
 * (e.g. the Grad-CAM map of a class with no positive evidence): such a map has no direction, and
 * the library's convention (it normalizes to zeros, at distance 1 from any unit map) would count
 * it as a change. Evaluations skip NaN values in their means and report how many.
 */
export function mapDistance(a: MetricMap, b: MetricMap): number {
  const zero = (m: MetricMap): boolean => {
    for (let i = 0; i < m.data.length; i++) if (m.data[i] !== 0) return false;
    return true;
  };
  return zero(a) || zero(b) ? NaN : normalizedL2Distance(a, b);
}
