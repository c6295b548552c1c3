/**
 * The resource budget type, apart from validate.ts: the public API names it (ExplainerOptions), and
 * validate.ts's declarations name onnx-proto's types, whose .d.ts does not compile without
 * `skipLibCheck` (docs/design/packaging.md).
 */

/** Limits on what a model and an input may ask for (see `ExplainerOptions.budget`). */
export interface ResourceBudget {
  /** Elements of one input tensor (batch × channels × height × width). Default 2^28. */
  maxInputElements: number;
  /** Bytes of all initializers (weights and constants) together, as stored. Default 4 GiB. */
  maxInitializerBytes: number;
}
