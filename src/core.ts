/**
 * The public API that does not depend on a platform: everything the package exports except the
 * `Explainer.load` binding to an onnxruntime package. The Node entry (index.ts, onnxruntime-node)
 * and the browser entry (web.ts, onnxruntime-web) re-export it, so both offer the same names.
 */
export { BacklightError, UnsupportedOpError } from './errors.js';
export { METHODS, METHOD_NAMES, GRADIENT_FAMILY, methodByName, type Method, type MethodName, type MethodParams } from './methods/methods.js';
export { COMPOSITE_NAMES, type Composite, type CompositeName, type PixelBox } from './methods/composites.js';
export {
  AGGREGATIONS, FRAMEWORK_METHODS, FRAMEWORK_METHOD_NAMES, isFrameworkMethod,
  type Aggregation, type CombineSpec, type FrameworkMethodName, type LayerInfo, type Upsampling,
} from './methods/framework.js';
export {
  BUILTIN_METHODS, isMethod, methodGroups, registeredParams, methodLabel, methodNames, methodSpec, methodSummary, registerMethod, unregisterMethod,
} from './methods/registry.js';
export { backward, layerMap, type BackwardMethodSpec, type LayerMapMethodSpec, type MethodGroup, type MethodSpec } from './methods/spec.js';
export { BUILTIN_PARAMS, flagKey, parseBox, parseNumber, type ParamSpec } from './methods/params.js';
export {
  checkBoxSource, compositeMethods, paramsFor, parseMethodParams, readsMetaLr, resolveBox, usesZBox,
  DEFAULT_COMPOSITE, DEFAULT_EPSILON, type BoxSource, type MethodParamCliOptions, type ParamRequest,
} from './methods/paramRequest.js';
export { AGGREGATION_SUMMARIES, isAggregation } from './compile/aggregate.js';
export { checkClass, checkTargetSpec, mergeTargets, parseTargetList, parseTargets, positionLabel, targetPositions, topKOf, validateTargets, type TargetPosition } from './methods/targets.js';
export { slotAt, slotOfAll, type SlotAccessors } from './methods/slots.js';
export { displayOf, drawAttribution, formatProbability, inputIndependenceNote, OVERLAY_STYLE, type DrawnAttribution, type MethodDisplay } from './methods/display.js';
export { className, predictionOf, softmax, softmaxRow, topK, topPredictions, type Logits, type Prediction } from './methods/predictions.js';
export {
  IMAGENET_MEAN, IMAGENET_STD, PRESET_NAMES, presets, resolvePreprocess, resizePlan,
  type ChannelOrder, type Preprocess, type PreprocessOverrides, type Preset, type PresetName, type TensorLayout,
} from './io/preprocess.js';
export { preprocess, flattenOnWhite, type DecodedImage, type PreprocessedImage, type PreprocessOptions, type PreprocessPlan, type RGBImage } from './io/preprocessImage.js';
export { resizeBilinear, resizeCropPlan, type PixelBuffer, type Window } from './io/resize.js';
export type { Explainer as CoreExplainer, LayerMap } from './methods/explainer.js';
export type { FrameworkOptions } from './methods/framework.js';
export type { Explanation, ExplainMethodName, ExplainOptions, ExplainerOptions, Target, TargetSpec, TensorLike } from './methods/explainer.js';
export type { GateLowering, LinearRule, Lowering, MaxPoolSwitches } from './rules/types.js';
export { REDUCTIONS, type Reduction } from './compile/compile.js';
export { supportedOps } from './rules/index.js';
export * as metrics from './metrics/index.js';
// Pictures (src/render): heatmaps, overlays on the original photo, colormaps, colorbars, PNG bytes.
export {
  COLORMAP_KIND, COLORMAP_NAMES, SIGN_MODES, colorbar, colormap, formatTick, heatmap, labelsSvg, mapAt, overlay, toPNG,
  type ColorbarImage, type ColorbarOptions, type ColormapKind, type ColormapName, type HeatmapImage, type HeatmapStyle, type MapLike,
  type OverlayPlan, type OverlayStyle, type PhotoLike, type PixelImage, type RGBAImage, type ResizeGeometry, type SignMode,
} from './render/index.js';
