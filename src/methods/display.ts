/**
 * How each method's explanation is drawn (with src/render/), shared by the command line and the
 * browser page. Pure TypeScript (no Node imports).
 *
 * By default every method is shown as a magnitude, max |·| over the channels with the sequential
 * colormap (as Simonyan et al. show saliency maps); relevance (LRP) is shown signed, the channel
 * sum with the diverging colormap centred at 0. `signed: true` shows every method whose attribution
 * has meaningful signs that way. Overlays show the input in dimmed gray under the heatmap, so that
 * its colours stand out.
 */
import {
  DEFAULT_MAGNITUDE_COLORMAP,
  DEFAULT_SIGNED_COLORMAP,
  heatmapRGBA,
  overlayRGBA,
  reduceChannels,
  type ChannelReduction,
  type ColormapName,
  type Heatmap,
  type ImageGeometry,
  type PixelImage,
  type RGBAImage,
} from '../render/index.js';
import { methodSpec } from './registry.js';

export interface MethodDisplay {
  signed: boolean;
  reduce: ChannelReduction;
  colormap: ColormapName;
}

export function displayOf(method: string, signedFlag: boolean): MethodDisplay {
  // Layer maps (Grad-CAM, NormGrad) are non-negative magnitudes; Guided Grad-CAM is shown like
  // Guided Backprop (max |.|, the signed channel sum with --signed).
  const m = methodSpec(method);
  const signed = (signedFlag || m.display === 'signed') && m.signed;
  return signed ? { signed, reduce: 'sum', colormap: DEFAULT_SIGNED_COLORMAP } : { signed, reduce: 'maxabs', colormap: DEFAULT_MAGNITUDE_COLORMAP };
}

/** Overlays show the input in dimmed gray, so that the heatmap's colours stand out. */
export const OVERLAY_STYLE = { grayImage: true, brightness: 0.6 } as const;

/** 0.791, and 2.1e-6 for probabilities below 0.001 (rather than 0.000). */
export function formatProbability(p: number): string {
  return p >= 0.001 || p === 0 ? p.toFixed(3) : p.toExponential(1);
}

export interface DrawnAttribution {
  /** The map, one value per pixel (max |·| or channel sum). */
  map: Float32Array;
  heat: Heatmap;
  overlay: RGBAImage;
}

/**
 * One image's attribution as a heatmap at the input's resolution and an overlay on `display` (the
 * input picture, same size). Layer maps upsampled to the input ([1, H, W]) have fewer channels
 * than the input: their channel count follows from their size.
 */
export function drawAttribution(
  values: Float32Array,
  geometry: ImageGeometry,
  display: PixelImage,
  how: MethodDisplay,
  options: { clip: number; opacity: number },
): DrawnAttribution {
  const { width, height } = geometry;
  const g = values.length === geometry.channels * width * height ? geometry : { layout: 'nchw' as const, channels: values.length / (width * height), width, height };
  const map = reduceChannels(values, g, how.reduce);
  const heat = heatmapRGBA(map, width, height, { signed: how.signed, colormap: how.colormap, percentile: options.clip });
  return { map, heat, overlay: overlayRGBA(display, heat, options.opacity, OVERLAY_STYLE) };
}
