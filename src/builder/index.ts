/**
 * Backlight's model builder: ONNX models of the saliency papers' architectures with seeded random
 * weights, so tests and experiments need no download.
 *
 * @example
 * ```ts
 * import * as ort from 'onnxruntime-node';
 * import { buildModel } from './builder/index.js';
 *
 * const bytes = buildModel({ model: 'cnn3', filters: 16, maxPool: true, seed: 1 });
 * const session = await ort.InferenceSession.create(bytes);
 * const x = new ort.Tensor('float32', new Float32Array(2 * 3 * 64 * 64), [2, 3, 64, 64]);
 * const { logits } = await session.run({ input: x }); // logits: [2, 10]
 * ```
 *
 * Every model reads `input` float32 ['batch', C, H, W] and writes `logits` float32
 * ['batch', classes]. The same options and seed give byte-identical models.
 *
 * @module
 */

export {
  /** Nie et al.'s random 3-layer CNN: Conv 7×7 s2 (N filters) → ReLU → [MaxPool 2×2] → Flatten → Gemm K. */
  cnn3,
  /** Nie et al.'s 3-layer FCN: Flatten → Gemm N_h → ReLU → Gemm K (`layers` adds hidden layers). */
  fcn3,
  /** VGG-16 configuration D, without dropout; the first FC's fan-in follows the input size. */
  vgg16,
  /** A CIFAR-style ResNet (6n + 2 layers, or blocks per stage) with unfolded BatchNormalization. */
  resnetSmall,
  /** The IR graph of a {@link ModelSpec}. */
  buildGraph,
  /** The ONNX model bytes (opset 17) of a {@link ModelSpec}. */
  buildModel,
  /** Number of initializer elements of a graph (parameters plus BatchNormalization statistics). */
  parameterCount,
} from './models.js';
export type { CommonOptions, Cnn3Options, Fcn3Options, Vgg16Options, ResnetSmallOptions, ModelSpec } from './models.js';

/** The fluent layer builder, for architectures of one's own. */
export { GraphBuilder, Value } from './layers.js';
export type { Init, BiasInit, BuilderOptions, ConvOptions, PoolOptions, GemmOptions } from './layers.js';

/** The seeded PRNG (xoshiro128**, polar Box–Muller normals, truncated normals, He std). */
export { Rng, heStd } from './random.js';

/** Re-initialization of an imported model's learnable layers, for the sanity checks. */
export { learnableLayers, randomizeLayers, layerInitializers, layerSeed, TRUNCATED_STD } from './randomize.js';
export type { LearnableLayer, RandomizeOptions, ReinitKind } from './randomize.js';
