/**
 * Rendering of saliency maps: colormaps, percentile normalization, heatmaps, overlays and figure
 * grids. Pure TypeScript with no Node imports, so the same code runs in a browser; writing files
 * (PNG, grids with text) is done in src/io/png.ts.
 */
export {
  COLORMAP_KIND,
  COLORMAP_NAMES,
  DEFAULT_MAGNITUDE_COLORMAP,
  DEFAULT_SIGNED_COLORMAP,
  LUT_SIZE,
  colormap,
  colormapLUT,
  isColormapName,
  lutIndex,
  type ColormapKind,
  type ColormapName,
  type RGB,
} from './colormaps.js';
export { DEFAULT_PERCENTILE, clipScale, normalizeMap, percentile, type NormalizeOptions, type NormalizedMap } from './normalize.js';
export {
  channelsOf,
  colorize,
  heatmapRGBA,
  mapAt,
  overlayRGBA,
  resizeMap,
  resizeRGBA,
  solidRGBA,
  toRGBA,
  type Heatmap,
  type HeatmapOptions,
  type OverlayOptions,
  type PixelImage,
  type RGBAImage,
  type Resample,
} from './heatmap.js';
export { minMaxGray, reduceChannels, type ChannelReduction, type ImageGeometry } from './maps.js';
export { colorbar, formatTick, type ColorbarImage, type ColorbarOptions } from './colorbar.js';
export { paintColorbar } from './strip.js';
export {
  SIGN_MODES,
  heatmap,
  mapValues,
  overlay,
  toPNG,
  type HeatmapImage,
  type HeatmapStyle,
  type MapLike,
  type OverlayPlan,
  type OverlayStyle,
  type PhotoLike,
  type ResizeGeometry,
  type SignMode,
} from './pictures.js';
export {
  COLORBAR_WIDTH,
  composeGrid,
  estimateTextWidth,
  fitText,
  labelsSvg,
  layoutGrid,
  type GridColorbar,
  type GridColorbarRect,
  type GridContent,
  type GridLabel,
  type GridLayout,
  type GridSpec,
  type GridTile,
} from './grid.js';
