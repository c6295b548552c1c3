/**
 * Layer-wise relevance propagation as a modified gradient (as Zennit implements it): at a linear
 * layer with modified inputs x' and weights W', z = W'x' (+ b'), s = R / stab(z), and the relevance
 * of the inputs is x' ⊙ W'ᵀs. Every rule is a sum of such terms (see ../shared/papers/METHODS.md):
 *   ε:        z = Wx + b;                         R = x ⊙ Wᵀs
 *   z⁺ (α1β0): z = W⁺x⁺ + b⁺ + W⁻x⁻;              R = x⁺ ⊙ W⁺ᵀs + x⁻ ⊙ W⁻ᵀs
 *   αβ:       α · (the z⁺ term) − β · (z = W⁻x⁺ + b⁻ + W⁺x⁻, R = x⁺ ⊙ W⁻ᵀs + x⁻ ⊙ W⁺ᵀs)
 *   zB:       z = Wx + b − (W⁺l + b⁺) − (W⁻h + b⁻); R = x ⊙ Wᵀs − l ⊙ W⁺ᵀs − h ⊙ W⁻ᵀs
 *   γ (generalized): z > 0: x⁺ with W + γW⁺, x⁻ with W + γW⁻, bias b + γb⁺; z < 0: the parts exchanged
 *   w²:       z = W²·1 + b²;                       R = W²ᵀs
 *   flat:     z = 1·1 (the fan-in);                R = 1ᵀs
 *   excitation (Zhang et al.): z = W⁺x⁺;          R = x⁺ ⊙ W⁺ᵀs   (marginal winning probabilities)
 * with stab(z) = z + ε·sign(z), sign(0) = +1. Modified weights are computed once per compile and
 * stored as initializers; when the layer input is known to be non-negative (it comes from a
 * rectifier or a pooling of one), the x⁻ terms vanish and are not emitted.
 */
import { attrFloat, attrInt, producers, type Graph } from '../ir/graph.js';
import { asFloat32, float32, sizeOf, type Tensor } from '../ir/tensor.js';
import { convInputGradient } from './conv.js';
import { mulFact, refuse } from './signal.js';
import type { LinearRule, RuleContext } from './types.js';

/** z + ε·sign(z) with sign(0) = +1, on a forward tensor. */
export function stabilize(ctx: RuleContext, z: string, epsilon = ctx.stabilizer): string {
  const { emit } = ctx;
  const signed = emit.op('Where', [emit.op('Less', [z, emit.scalar(0)]), emit.scalar(-epsilon), emit.scalar(epsilon)]);
  return emit.op('Add', [z, signed], {}, 'stabilized');
}

/** x ⊙ c for a forward tensor x and a K-major signal c of x's shape, recorded as a product (Emitter.products). */
export function relevanceProduct(ctx: RuleContext, x: string, c: string, xs: readonly number[]): string {
  const r = mulFact(ctx, c, xs, x, xs);
  ctx.emit.products.set(r, { x, c, shape: xs });
  return r;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** The product x ⊙ c that a signal was emitted as, when it reaches this node's output unchanged. */
function arrivingProduct(ctx: RuleContext, signal: string): { x: string; c: string } | undefined {
  const p = ctx.emit.products.get(signal);
  return p && sameShape(p.shape, ctx.shape(ctx.node.outputs[0]!)) ? p : undefined;
}

/**
 * R / stab(z) for a K-major signal R and a forward denominator z of the output's shape
 * (`stabilized`: z already includes the stabilizer). When R arrives as x ⊙ c (the relevance of
 * the next layer's input, passed unchanged through a rectifier), it is computed as c ⊙ (x / stab(z)):
 * one K-wide product instead of two, and x / stab(z) once for all seeds.
 */
export function divideByStabilized(ctx: RuleContext, signal: string, z: string, epsilon?: number, stabilized = false): string {
  const s = ctx.shape(ctx.node.outputs[0]!);
  const denominator = stabilized ? z : stabilize(ctx, z, epsilon);
  const product = arrivingProduct(ctx, signal);
  if (product) return mulFact(ctx, product.c, s, ctx.emit.op('Div', [product.x, denominator], {}, 'relevanceRatio'), s);
  return mulFact(ctx, signal, s, denominator, s, 'Div');
}

/**
 * The ε rule at a layer whose output z feeds a Relu a = max(0, z) and whose relevance arrives as
 * a ⊙ c: a / stab(z) = a / (a + ε) (z > 0: a = z; z ≤ 0: a = 0), so z itself is not needed and
 * onnxruntime keeps Conv and Relu fused.
 */
function epsilonThroughRelu(ctx: RuleContext, signal: string, z: string, epsilon: number): string | undefined {
  const product = arrivingProduct(ctx, signal);
  if (!product) return undefined;
  const relu = producers(ctx.graph).get(product.x);
  if (relu?.op !== 'Relu' || relu.inputs[0] !== z) return undefined;
  const { emit } = ctx;
  const ratio = emit.op('Div', [product.x, emit.op('Add', [product.x, emit.scalar(epsilon)])], {}, 'relevanceRatio');
  const s = ctx.shape(ctx.node.outputs[0]!);
  return mulFact(ctx, product.c, s, ratio, s);
}

/** Whether a tensor is ≥ 0 by construction: the output of a rectifier, or a pooling/reshape of one. */
export function nonNegative(graph: Graph, name: string): boolean {
  const prod = producers(graph).get(name);
  if (!prod) return false;
  switch (prod.op) {
    case 'Relu':
      return true;
    case 'Clip': {
      const lo = prod.inputs[1] ? graph.initializers.get(prod.inputs[1]) : undefined;
      return !!lo && asFloat32(lo)[0]! >= 0;
    }
    case 'MaxPool': case 'AveragePool': case 'GlobalAveragePool': case 'GlobalMaxPool':
    case 'Flatten': case 'Reshape': case 'Squeeze': case 'Unsqueeze': case 'Transpose':
      return nonNegative(graph, prod.inputs[0]!);
    case 'Concat':
      return prod.inputs.every((i) => nonNegative(graph, i));
    default:
      return false;
  }
}

/** The first linear layer (Conv, Gemm or MatMul) in topological order: "the first layer" of composites. */
export function isFirstLinearLayer(graph: Graph, nodeName: string): boolean {
  const first = graph.nodes.find((n) => n.op === 'Conv' || n.op === 'Gemm' || n.op === 'MatMul');
  return first?.name === nodeName;
}

type Weights = { w: Tensor; b: Tensor | undefined };

/** How a linear op computes forward and backward with substituted weights. */
interface LinearOps {
  /** y = W·x (+ b) with the node's geometry, for a forward tensor x of the input's shape. */
  forward(x: string, w: Tensor, b: Tensor | undefined, hint: string): string;
  /** Wᵀ·s for a K-major signal s of the output's shape. */
  backward(s: string, w: Tensor, hint: string): string;
}

/** Modified weights (VGG-16 has 138M of them: a plain loop, not Float32Array.from with a callback). */
function mapWeights(t: Tensor, f: (v: number) => number): Tensor {
  const src = asFloat32(t);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
  return { dtype: 'float32', dims: [...t.dims], data: out };
}

/** The positive and negative parts of a weight, computed once per tensor and compile. */
const parts = new WeakMap<Tensor, { pos: Tensor; neg: Tensor }>();
function signParts(t: Tensor): { pos: Tensor; neg: Tensor } {
  let p = parts.get(t);
  if (!p) {
    const src = asFloat32(t);
    const pos = new Float32Array(src.length);
    const neg = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v > 0) pos[i] = v;
      else neg[i] = v;
    }
    p = { pos: { dtype: 'float32', dims: [...t.dims], data: pos }, neg: { dtype: 'float32', dims: [...t.dims], data: neg } };
    parts.set(t, p);
  }
  return p;
}

function linearOps(ctx: RuleContext): { ops: LinearOps; weights: Weights } {
  const { node, emit } = ctx;
  if (ctx.needs[1] || ctx.needs[2]) refuse(ctx, 'weights that depend on the input are not supported by LRP rules');
  const w = ctx.constant(node.inputs[1]!);
  if (!w) refuse(ctx, 'the weight must be a constant');
  let b = node.inputs[2] ? ctx.constant(node.inputs[2]) : undefined;
  if (node.inputs[2] && !b) refuse(ctx, 'the bias must be a constant');
  if (node.op === 'Conv') {
    const attrs = { ...node.attrs };
    return {
      weights: { w, b },
      ops: {
        forward: (x, wt, bt, hint) => {
          const inputs = [x, emit.constant(wt, `${node.name}/${hint}_w`)];
          if (bt) inputs.push(emit.constant(bt, `${node.name}/${hint}_b`));
          return emit.ops('Conv', inputs, attrs, 1, `${hint}Fwd`)[0]!;
        },
        backward: (s, wt, hint) => convInputGradient(ctx, s, emit.constant(wt, `${node.name}/${hint}_w`), wt),
      },
    };
  }
  if (node.op === 'Gemm') {
    if (attrInt(node, 'transA', 0) !== 0) refuse(ctx, 'transA=1 is not supported');
    const transB = attrInt(node, 'transB', 0);
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    if (b && (b.dims.length !== 1 || b.dims[0] !== (transB ? w.dims[0] : w.dims[1]))) {
      refuse(ctx, `LRP needs a per-output bias of the Gemm (got C of shape [${b.dims}])`);
    }
    if (b && beta !== 1) b = mapWeights(b, (v) => v * beta);
    return {
      weights: { w: alpha === 1 ? w : mapWeights(w, (v) => v * alpha), b },
      ops: {
        forward: (x, wt, bt, hint) => {
          const inputs = [x, emit.constant(wt, `${node.name}/${hint}_w`)];
          if (bt) inputs.push(emit.constant(bt, `${node.name}/${hint}_b`));
          return emit.op('Gemm', inputs, { transB }, `${hint}Fwd`);
        },
        backward: (s, wt, hint) => emit.op('Gemm', [s, emit.constant(wt, `${node.name}/${hint}_w`)], { transB: transB ? 0 : 1 }, `${hint}Bwd`),
      },
    };
  }
  if (node.op === 'MatMul') {
    return {
      weights: { w, b: undefined },
      ops: {
        forward: (x, wt, _bt, hint) => emit.op('MatMul', [x, emit.constant(wt, `${node.name}/${hint}_w`)], {}, `${hint}Fwd`),
        backward: (s, wt, hint) => {
          const [k, n] = wt.dims as [number, number];
          const src = asFloat32(wt);
          const t = new Float32Array(src.length);
          for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = src[i * n + j]!;
          return emit.op('MatMul', [s, emit.constant({ dtype: 'float32', dims: [n, k], data: t }, `${node.name}/${hint}_wT`)], {}, `${hint}Bwd`);
        },
      },
    };
  }
  refuse(ctx, 'no LRP rule for this op');
}

const positive = (v: number): number => (v > 0 ? v : 0);

/**
 * The layer's bias plus `delta` (a new bias when it has none). Where z = W'x' + b' has one sign by
 * construction (W' ≥ 0, x' ≥ 0, b' ≥ 0, or all ≤ 0), stab(z) = z ± ε is computed by the layer
 * itself with the stabilizer in its bias. Where z = 0 every term W'ᵢⱼx'ᵢ is 0 too, so the relevance
 * it sends back is 0 whichever sign the stabilizer takes there.
 */
function shiftedBias(ctx: RuleContext, b: Tensor | undefined, delta: number): Tensor {
  const n = ctx.shape(ctx.node.outputs[0]!)[1]!;
  const src = b ? asFloat32(b) : undefined;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (src ? src[i]! : 0) + delta;
  return float32([n], out);
}

/** Sum of forward tensors (undefined terms skipped). */
function sumOf(ctx: RuleContext, terms: (string | undefined)[], hint: string): string {
  const present = terms.filter((t): t is string => t !== undefined);
  return present.length === 1 ? present[0]! : ctx.emit.op('Sum', present, {}, hint);
}

/** A constant tensor of the layer input's shape (batch 1) holding one value per channel. */
function perChannel(ctx: RuleContext, values: readonly number[], hint: string): string {
  const xs = ctx.shape(ctx.node.inputs[0]!);
  const features = sizeOf(xs.slice(1));
  // Per image channel: channels are the outer axis of [C, …] and of a flattened [C·H·W] alike.
  const c = values.length === 1 ? 1 : xs.length > 2 ? xs[1]! : values.length;
  if (values.length !== 1 && (values.length !== c || features % c !== 0)) {
    refuse(ctx, `${hint} bounds need 1 value or one per input channel (${xs.length > 2 ? xs[1] : 'a divisor of ' + features}), got ${values.length}`);
  }
  const per = features / c;
  const data = new Float32Array(features);
  for (let i = 0; i < c; i++) data.fill(values[i]!, i * per, (i + 1) * per);
  return ctx.emit.constant(float32([1, ...xs.slice(1)], data), `${ctx.node.name}/${hint}`);
}

/** The relevance of a linear layer's input under `rule`. */
export function linearRelevance(ctx: RuleContext, rule: LinearRule): string {
  const { node, emit } = ctx;
  const { ops, weights } = linearOps(ctx);
  const x = node.inputs[0]!;
  const xs = ctx.shape(x);
  const R = ctx.signals[0]!;
  const b = rule.ignoreBias ? undefined : weights.b;
  const w = weights.w;
  // The layer's own output is z = Wx + b when nothing is substituted (a node given a substituted
  // weight, as CLRP2's dual pass does, is not in the graph).
  const ownOutput = b === weights.b && ctx.graph.nodes.includes(node) ? node.outputs[0]! : undefined;
  const times = (input: string, c: string): string =>
    ctx.graph.initializers.has(input) ? mulFact(ctx, c, xs, input, [1, ...xs.slice(1)]) : relevanceProduct(ctx, input, c, xs);
  const sub = (a: string, c: string): string => emit.op('Sub', [a, c]);

  switch (rule.rule) {
    case 'epsilon': {
      const z = ownOutput ?? ops.forward(x, w, b, 'eps');
      const s = (ownOutput && epsilonThroughRelu(ctx, R, z, rule.epsilon)) ?? divideByStabilized(ctx, R, z, rule.epsilon);
      return times(x, ops.backward(s, w, 'eps'));
    }
    case 'gamma': {
      // Generalized γ (Andéol et al. 2021, as Zennit ≥ 0.5): where z > 0 the contributions that
      // agree with z are enhanced, x⁺ with W + γW⁺ and x⁻ with W + γW⁻ (bias b + γb⁺); where z < 0
      // the other way round (bias b + γb⁻); where z = 0 no relevance passes.
      const g = rule.gamma;
      const up = mapWeights(w, (v) => v + g * positive(v));
      const down = mapWeights(w, (v) => v + g * Math.min(v, 0));
      const bUp = b && mapWeights(b, (v) => v + g * positive(v));
      const bDown = b && mapWeights(b, (v) => v + g * Math.min(v, 0));
      const onlyPositiveInput = nonNegative(ctx.graph, x);
      const xp = onlyPositiveInput ? x : emit.op('Relu', [x], {}, 'xPos');
      const xn = onlyPositiveInput ? undefined : emit.op('Min', [x, emit.scalar(0)], {}, 'xNeg');
      const z = ownOutput ?? ops.forward(x, w, b, 'gammaZ');
      const zs = ctx.shape(node.outputs[0]!);
      const side = (sign: 'Greater' | 'Less', wx: Tensor, wxn: Tensor, bx: Tensor | undefined, hint: string): { s: string; wx: Tensor; wxn: Tensor; hint: string } => {
        const denominator = sumOf(ctx, [ops.forward(xp, wx, bx, `${hint}P`), xn && ops.forward(xn, wxn, undefined, `${hint}N`)], `${hint}Z`);
        const mask = emit.op('Cast', [emit.op(sign, [z, emit.scalar(0)])], { to: 1 }, `${hint}Mask`);
        return { s: mulFact(ctx, divideByStabilized(ctx, R, denominator), zs, mask, zs), wx, wxn, hint };
      };
      const sides = [side('Greater', up, down, bUp, 'gammaUp'), side('Less', down, up, bDown, 'gammaDown')];
      const cp = emit.op('Add', sides.map((q) => ops.backward(q.s, q.wx, `${q.hint}P`)), {}, 'gammaPos');
      const terms = [times(xp, cp)];
      if (xn) terms.push(times(xn, emit.op('Add', sides.map((q) => ops.backward(q.s, q.wxn, `${q.hint}N`)), {}, 'gammaNeg')));
      return sumOf(ctx, terms, 'gammaR');
    }
    case 'zplus':
    case 'alphabeta': {
      const alpha = rule.rule === 'zplus' ? 1 : rule.alpha;
      const beta = rule.rule === 'zplus' ? 0 : rule.beta;
      const { pos: wp, neg: wn } = signParts(w);
      const onlyPositiveInput = nonNegative(ctx.graph, x);
      const xp = onlyPositiveInput ? x : emit.op('Relu', [x], {}, 'xPos');
      const xn = onlyPositiveInput ? undefined : emit.op('Min', [x, emit.scalar(0)], {}, 'xNeg');
      // One part: inputs (x⁺ with W_a, x⁻ with W_b), bias b_a on the x⁺ term only. With x ≥ 0 the
      // part has one sign (that of W_a and b_a): the stabilizer goes into the bias.
      const signDefinite = !xn && node.op !== 'MatMul';
      const part = (wa: Tensor, wb: Tensor, ba: Tensor | undefined, hint: string): string => {
        const s = signDefinite
          ? divideByStabilized(ctx, R, ops.forward(xp, wa, shiftedBias(ctx, ba, hint === 'pos' ? ctx.stabilizer : -ctx.stabilizer), `${hint}a`), undefined, true)
          : divideByStabilized(ctx, R, sumOf(ctx, [ops.forward(xp, wa, ba, `${hint}a`), xn && ops.forward(xn, wb, undefined, `${hint}b`)], `${hint}Z`));
        const terms = [times(xp, ops.backward(s, wa, `${hint}a`)), xn && times(xn, ops.backward(s, wb, `${hint}b`))];
        return sumOf(ctx, terms, `${hint}R`);
      };
      const pos = part(wp, wn, b && signParts(b).pos, 'pos');
      if (beta === 0) return alpha === 1 ? pos : emit.op('Mul', [pos, emit.scalar(alpha)]);
      const neg = part(wn, wp, b && signParts(b).neg, 'neg');
      return sub(emit.op('Mul', [pos, emit.scalar(alpha)]), emit.op('Mul', [neg, emit.scalar(beta)]));
    }
    case 'zbox': {
      const { pos: wp, neg: wn } = signParts(w);
      const l = perChannel(ctx, rule.low, 'low');
      const h = perChannel(ctx, rule.high, 'high');
      // Bound terms are constant: onnxruntime folds them once per session.
      const zx = ownOutput ?? ops.forward(x, w, b, 'box');
      const zl = ops.forward(l, wp, b && signParts(b).pos, 'boxLow');
      const zh = ops.forward(h, wn, b && signParts(b).neg, 'boxHigh');
      const z = sub(sub(zx, zl), zh);
      const s = divideByStabilized(ctx, R, z);
      const rx = times(x, ops.backward(s, w, 'box'));
      const rl = times(l, ops.backward(s, wp, 'boxLow'));
      const rh = times(h, ops.backward(s, wn, 'boxHigh'));
      return sub(sub(rx, rl), rh);
    }
    case 'excitation': {
      const wp = signParts(w).pos;
      const xp = nonNegative(ctx.graph, x) ? x : emit.op('Relu', [x], {}, 'xPos');
      // z = W⁺x⁺ ≥ 0: the stabilizer goes into a bias (see shiftedBias).
      const s = node.op === 'MatMul'
        ? divideByStabilized(ctx, R, ops.forward(xp, wp, undefined, 'ebp'))
        : divideByStabilized(ctx, R, ops.forward(xp, wp, shiftedBias(ctx, undefined, ctx.stabilizer), 'ebp'), undefined, true);
      return times(xp, ops.backward(s, wp, 'ebp'));
    }
    case 'wsquare':
    case 'flat': {
      const wm = rule.rule === 'flat' ? mapWeights(w, () => 1) : mapWeights(w, (v) => v * v);
      const bm = rule.rule === 'flat' || !b ? undefined : mapWeights(b, (v) => v * v);
      const ones = perChannel(ctx, [1], 'ones');
      const z = ops.forward(ones, wm, bm, rule.rule);
      const s = divideByStabilized(ctx, R, z);
      return ops.backward(s, wm, rule.rule);
    }
  }
}

/**
 * Zennit's Norm rule for a parameter-free linear op (average pooling): R_in = x ⊙ ∇op(R / stab(y)),
 * with ∇op the op's gradient rule.
 */
export function proportionalThrough(ctx: RuleContext, gradient: (ctx: RuleContext) => (string | undefined)[]): (string | undefined)[] {
  const s = divideByStabilized(ctx, ctx.signals[0]!, ctx.node.outputs[0]!);
  const back = gradient({ ...ctx, signals: [s] })[0]!;
  const x = ctx.node.inputs[0]!;
  return [relevanceProduct(ctx, x, back, ctx.shape(x))];
}

/** Relevance passes through unchanged (activations, standalone normalization, scaling). */
export const passRelevance = (ctx: RuleContext): (string | undefined)[] => ctx.node.inputs.map((_, i) => (i === 0 && ctx.needs[0] ? ctx.signals[0] : undefined));

