/**
 * Metrics of the randomization experiments (Nie et al. 2018 §3–4.5; Adebayo et al. 2018):
 *
 * - `mapSimilarity`: how much a map of a (partly) randomized model still looks like the map of the
 *   trained model — Spearman's ρ of the scored maps (magnitudes: Adebayo et al.'s "absolute value"
 *   rank correlation), Spearman's ρ of the signed channel sums (their "without absolute value"),
 *   and the SSIM of the scored maps, each min-max normalized (`ssim`'s default). Identical maps
 *   give 1 for all three; ρ is NaN when a map is constant (e.g. all zero).
 * - `imageRecovery`: how well a map recovers the input image itself (Nie et al.'s Theorem 1:
 *   Guided Backprop in a random CNN gives s ≈ x). Both are compared as what they are — the signed
 *   attribution and the input tensor in the model's input space, every channel:
 *   `pearson` = Pearson's r over all C·H·W values; `ssim` = the mean over channels of the SSIM of
 *   the attribution's channel and the input's channel, each min-max normalized. The input itself
 *   scores 1 on both. Pearson is invariant to the scale and offset of the map, so the papers'
 *   display normalization does not change it.
 */
import { ssim } from './similarity.js';
import { pearson, spearman } from './spearman.js';
import { imageShape, type ImageTensorLike, type MetricMap } from './types.js';

/** A method's two maps of one image: the scored map (non-negative) and the signed channel sum. */
export interface MapPair {
  scored: MetricMap;
  signed: MetricMap;
}

export interface MapSimilarity {
  /** Spearman's ρ of the scored maps. */
  spearmanAbs: number;
  /** Spearman's ρ of the signed maps. */
  spearmanRaw: number;
  /** SSIM of the min-max normalized scored maps. */
  ssim: number;
}

/** Similarity of a map to the reference (trained model's) map; see the module note. */
export function mapSimilarity(reference: MapPair, other: MapPair): MapSimilarity {
  return {
    spearmanAbs: spearman(reference.scored.data, other.scored.data),
    spearmanRaw: spearman(reference.signed.data, other.signed.data),
    ssim: ssim(reference.scored, other.scored),
  };
}

export interface Recovery {
  pearson: number;
  ssim: number;
}

/**
 * Recovery of `input` (one image, [C, H, W] or [1, C, H, W]) by an attribution of the same shape;
 * see the module note.
 */
export function imageRecovery(attribution: ImageTensorLike, input: ImageTensorLike): Recovery {
  const { channels, height, width } = imageShape(input);
  const a = imageShape(attribution, 'attribution');
  if (a.channels !== channels || a.height !== height || a.width !== width) {
    throw new RangeError(`imageRecovery: attribution ${a.channels}×${a.height}×${a.width} and input ${channels}×${height}×${width} differ`);
  }
  const size = height * width;
  let s = 0;
  for (let c = 0; c < channels; c++) {
    const part = (t: ImageTensorLike): MetricMap => ({ data: t.data.subarray(c * size, (c + 1) * size), width, height });
    s += ssim(part(attribution), part(input));
  }
  return { pearson: pearson(attribution.data, input.data), ssim: s / channels };
}
