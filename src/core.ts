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
export type { Explanation, ExplainMethodName, ExplainOptions, ExplainerOptions, Target, TargetSpec, TensorLike } from './methods/explainer.js';
export type { GateLowering, LinearRule, Lowering, MaxPoolSwitches } from './rules/types.js';
export { REDUCTIONS, type Reduction } from './compile/compile.js';
export { supportedOps } from './rules/index.js';
export * as metrics from './metrics/index.js';
