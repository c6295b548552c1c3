/**
 * The contract between the compiler and the backward rules.
 *
 * Signals are K-major: the signal of a forward tensor of shape S = [s0, s1, …] has shape
 * [K·s0, s1, …], holding K contiguous blocks of shape S (one per seed). Reshapes of a signal are
 * therefore exact whatever the forward op does with the batch axis, and forward facts of shape S
 * broadcast against the view [K, …S].
 */
import type { Graph, Node } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import type { Emitter } from '../ir/emitter.js';

/**
 * How max-pooling finds its switches: MaxPool's Indices output, or ArgMax over windows that tile
 * the input (for runtimes without the Indices output, as onnxruntime's WebGPU); see maxPool.ts.
 */
export type MaxPoolSwitches = 'indices' | 'argmax';

/**
 * How rectifier gates R ⊙ 1[0 < y < hi] are built (masks.ts): 'ramp', from saturating per-channel
 * 1×1 convolutions that onnxruntime's CPU provider fuses and keeps in its blocked layout; or
 * 'compare', from comparisons, a Cast and a Mul (for WebGPU, whose float arithmetic need not
 * overflow to infinity as IEEE 754 does, which the ramps rely on).
 */
export type GateLowering = 'ramp' | 'compare';

/**
 * Op choices for the runtime that will run a compiled graph. Every choice computes the same
 * values; they differ in which ops the runtime has and runs fast.
 */
export interface Lowering {
  maxPoolSwitches: MaxPoolSwitches;
  gates: GateLowering;
}

/** For onnxruntime's CPU provider (and its WebAssembly build). */
export const CPU_LOWERING: Lowering = { maxPoolSwitches: 'indices', gates: 'ramp' };
/** For onnxruntime's WebGPU provider. */
export const WEBGPU_LOWERING: Lowering = { maxPoolSwitches: 'argmax', gates: 'compare' };

/** Which variant of an op's backward pass a method asks for. */
export type RuleFamily = 'gradient' | 'deconvnet' | 'guided' | 'lrp';

/**
 * LRP rules for linear layers (Conv, Gemm, MatMul); see ../shared/papers/METHODS.md. `ignoreBias`
 * bypasses the layer's bias (Gu et al. §3.1).
 */
export type LinearRule = (
  | { rule: 'epsilon'; epsilon: number }
  | { rule: 'zplus' }
  | { rule: 'alphabeta'; alpha: number; beta: number }
  | { rule: 'zbox'; low: readonly number[]; high: readonly number[] }
  | { rule: 'gamma'; gamma: number }
  | { rule: 'wsquare' }
  | { rule: 'flat' }
  | { rule: 'excitation' }
) & { ignoreBias?: boolean };

/** What a method asks of one node: a rule family and, for LRP at linear layers, the rule. */
export interface RuleChoice {
  family: RuleFamily;
  linear?: LinearRule;
}

export interface RuleContext {
  /** The canonical forward graph (read only). */
  readonly graph: Graph;
  readonly node: Node;
  readonly emit: Emitter;
  /** Number of seeds (targets) per image. */
  readonly k: number;
  /** Incoming signal for each output of the node; undefined where none arrives. */
  readonly signals: readonly (string | undefined)[];
  /** Which inputs depend on the model input and so need a signal. */
  readonly needs: readonly boolean[];
  /** The rule family the method asks for at this node. */
  readonly family: RuleFamily;
  /** For LRP at linear layers: the rule. */
  readonly linear?: LinearRule;
  /** Added to denominators with the sign of the denominator (sign(0) = +1), as Zennit does. */
  readonly stabilizer: number;
  /** Op choices for the runtime that will run the graph. */
  readonly lowering: Lowering;
  /** Static forward shape of a tensor. */
  shape(name: string): number[];
  /** Value of a constant input (initializer), if it is one. */
  constant(name: string): Tensor | undefined;
}

/** Returns one signal per node input (undefined for inputs that need none). */
export type BackwardRule = (ctx: RuleContext) => (string | undefined)[];

export interface OpRules {
  /** The true vector–Jacobian product; methods fall back to it for families an op does not define. */
  gradient: BackwardRule;
  deconvnet?: BackwardRule;
  guided?: BackwardRule;
  /** Relevance propagation (LRP); ops without it pass relevance as the gradient does. */
  lrp?: BackwardRule;
}
