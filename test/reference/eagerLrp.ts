/**
 * Independent eager reference for layer-wise relevance propagation (LRP), contrastive LRP (CLRP1,
 * CLRP2) and Excitation Backprop, in Float64 over the canonical IR graph.
 *
 * The compiler (src/rules/linearRules/) writes every LRP rule as a modified gradient: z = W'x' (+ b'),
 * s = R / stab(z), R_in = x' ⊙ W'ᵀs. This file computes the same rules the textbook way, from the
 * individual contributions of every connection i → j of a layer:
 *
 *   R_i = Σ_j  c_ij / stab(z_j) · R_j,        z_j = Σ_i c_ij + (bias term of j)
 *
 * enumerating the connections with plain loops (a Conv's output positions × kernel taps, a Gemm's
 * rows × columns), so the two are genuinely different computations. It shares no code with src/
 * (only the IR types and the attribute and tensor readers); structural ops reuse the eager gradient
 * of ./eager.ts, which is itself checked against finite differences and onnxruntime. Where z_j is
 * the layer's own pre-activation (ε, and zB with its bias), the contributions are checked to add up
 * to the layer's forward output, which is then the denominator (see `linearLayerRelevance`).
 *
 * Rules (see ../shared/papers/METHODS.md; Zennit's conventions, which the project follows), with
 * x⁺ = max(0, x), x⁻ = min(0, x), likewise w⁺, w⁻, b⁺, b⁻:
 *   ε            c_ij = x_i w_ij                              bias b_j, stabilizer ε of the rule
 *   z⁺ (α1β0)    c_ij = x_i⁺ w_ij⁺ + x_i⁻ w_ij⁻                bias b_j⁺
 *   αβ           α · (the z⁺ part) − β · (c_ij = x_i⁺ w_ij⁻ + x_i⁻ w_ij⁺, bias b_j⁻), each part
 *                with its own denominator
 *   zB           c_ij = x_i w_ij − l_i w_ij⁺ − h_i w_ij⁻       bias b_j − b_j⁺ − b_j⁻ (= 0)
 *   γ            c_ij = x_i (w_ij + γ w_ij⁺)                   bias b_j + γ b_j⁺
 *   w²           c_ij = w_ij²                                  bias b_j²
 *   flat         c_ij = 1  (over the connections that exist: padding taps are none)
 *   excitation   c_ij = x_i⁺ w_ij⁺                             no bias
 * `ignoreBias` drops the layer's bias from every rule. stab(z) = z + ε·sign(z), sign(0) = +1.
 *
 * Other ops: sums (Add, Sum, and Sub as a sum with −b) split relevance in proportion to each
 * operand's contribution, R_k = ±x_k · R / stab(y) (a constant operand absorbs its share);
 * AveragePool, GlobalAveragePool, ReduceMean and ReduceSum likewise, R_i = Σ_j x_i a_ij / stab(y_j) · R_j
 * with a_ij the pooling weights; ReduceSumSquare and ReduceL2 in proportion to x_i² (over y, y²);
 * LayerNormalization and InstanceNormalization by the ε rule on the centring with 1/σ held constant;
 * Softmax by AttnLRP's rule; Mul/Div/MatMul of two activations by the gate, quotient and uniform
 * rules (see `productRelevance`, `bilinearRelevance`); activations (Erf, Exp, Sqrt, …, Pow with a
 * constant exponent), scalings by constants and unfolded BatchNormalization pass relevance
 * unchanged; every other op (MaxPool: the winner takes all; ReduceMax/Min: the winners; Concat,
 * Split, Slice, Pad, reshapes, Transpose, Gather, Expand, Tile, Where) passes it like the plain gradient.
 */
import { attrFloat, attrInt, attrInts, attrString, type Graph, type Node } from '../../src/ir/graph.js';
import { float32, toNumbers } from '../../src/ir/tensor.js';
import type { LinearRule } from '../../src/rules/types.js';
import { backward, einsumTerms, forward, numel, type RefTensor } from './eager.js';

/** What to do at one node: a linear rule (Conv, Gemm, MatMul), or one of the non-linear-layer treatments. */
export type LrpChoice = LinearRule | 'pass' | 'gradient' | 'proportional' | 'softmax';
export type LrpChooser = (node: Node, graph: Graph) => LrpChoice;

export const STABILIZER = 1e-6;

const LINEAR_OPS = new Set(['Conv', 'Gemm', 'MatMul']);
const PASS_OPS = new Set(['LRN', 
  'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'BatchNormalization', 'Mul', 'Div',
  'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Sin', 'Cos', 'Softplus', 'Elu', 'Pow',
]);
const PROPORTIONAL_OPS = new Set([
  'Add', 'Sum', 'Sub', 'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'ReduceSum', 'ReduceSumSquare', 'ReduceL2',
  'LayerNormalization', 'InstanceNormalization',
]);

/** z + ε·sign(z), sign(0) = +1. */
export function stab(z: number, eps: number): number {
  return z + (z < 0 ? -eps : eps);
}

// ───────────────────────────── linear layers ─────────────────────────────

/** Kinds of per-connection contributions (see the table at the top of the file). */
const XW = 0, PLUS = 1, MINUS = 2, BOX = 3, GAMMA_UP = 4, SQUARE = 5, ONE = 6, EXCITE = 7, GAMMA_DOWN = 8;

/**
 * One term of a rule: per-connection contributions c_ij = contribution(term, x_i, w_ij, channel of
 * i), the bias term added to z_j, the term's weight in R (α, −β) and its stabilizer.
 */
class RuleTerm {
  constructor(
    readonly kind: number,
    readonly biasTerm: (b: number) => number,
    readonly coef = 1,
    readonly epsilon = STABILIZER,
    readonly gamma = 0,
    /** zB bounds per input channel. */
    readonly low: Float64Array = new Float64Array(0),
    readonly high: Float64Array = new Float64Array(0),
    /** Only outputs whose plain pre-activation Σ x·w + b has this sign receive relevance (generalized γ); 0: all. */
    readonly outputSign = 0,
  ) {}
}

const pos = (v: number): number => (v > 0 ? v : 0);
const neg = (v: number): number => (v < 0 ? v : 0);

function contribution(t: RuleTerm, x: number, w: number, ch: number): number {
  switch (t.kind) {
    case XW: return x * w;
    case PLUS: return pos(x) * pos(w) + neg(x) * neg(w);
    case MINUS: return pos(x) * neg(w) + neg(x) * pos(w);
    case BOX: return x * w - t.low[ch]! * pos(w) - t.high[ch]! * neg(w);
    case GAMMA_UP: return pos(x) * (w + t.gamma * pos(w)) + neg(x) * (w + t.gamma * neg(w));
    case GAMMA_DOWN: return pos(x) * (w + t.gamma * neg(w)) + neg(x) * (w + t.gamma * pos(w));
    case SQUARE: return w * w;
    case ONE: return 1;
    case EXCITE: return pos(x) * pos(w);
    default: throw new Error(`unknown contribution kind ${t.kind}`);
  }
}

/**
 * A linear layer as its connections. `run(t, x, z, s, Rin, size)` visits every connection i → j
 * (flat indices, batch included) with its effective weight w_ij: without `s` it sums z_j += c_ij
 * (and size_j += |c_ij| when given), with `s` it sends Rin_i += c_ij · s_j. `bias(j)` is the
 * effective bias of output j (0 without one).
 */
interface LinearLayer {
  outSize: number;
  inSize: number;
  /** Size of axis 1 of the layer input (the channels zB bounds are given for). */
  channels: number;
  bias(j: number): number;
  run(t: RuleTerm, x: Float64Array, z: Float64Array, s: Float64Array | undefined, Rin: Float64Array, size?: Float64Array): void;
}

/** Conv geometry, integers only. */
interface ConvGeometry {
  N: number; C: number; H: number; W: number;
  M: number; Cg: number; KH: number; KW: number;
  OH: number; OW: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
  /** Output channels per group. */
  Mg: number;
}

/**
 * Every output position j = (n, m, oh, ow) and every kernel tap (c, kh, kw) that lands inside the
 * input (taps on the padding are no connections): z_j += c_ij (size_j += |c_ij|), or
 * Rin_i += c_ij · s_j with `s`.
 */
function convRun(g: ConvGeometry, t: RuleTerm, xd: Float64Array, wd: Float64Array, z: Float64Array, s: Float64Array | undefined, Rin: Float64Array, size?: Float64Array): void {
  const { N, C, H, W, M, Cg, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, Mg } = g;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / Mg) * Cg;
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const j = ((n * M + m) * OH + oh) * OW + ow;
          const sj = s ? s[j]! : 0;
          if (s && sj === 0) continue;
          let acc = 0, abs = 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - pt + kh * dh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - pl + kw * dw;
                if (iw < 0 || iw >= W) continue;
                const i = ((n * C + c0 + c) * H + ih) * W + iw;
                const v = contribution(t, xd[i]!, wd[((m * Cg + c) * KH + kh) * KW + kw]!, c0 + c);
                acc += v;
                abs += Math.abs(v);
                Rin[i]! += v * sj; // sj = 0 while summing z
              }
            }
          if (!s) z[j]! += acc;
          if (!s && size) size[j]! += abs;
        }
    }
}

function convLayer(node: Node, x: RefTensor, w: RefTensor, b: RefTensor | undefined, y: RefTensor): LinearLayer {
  if (x.dims.length !== 4) throw new Error(`${node.name}: only 2-D convolutions`);
  const int = (v: number[]): number[] => v.map((d) => d | 0);
  const [N, C, H, W] = int(x.dims) as [number, number, number, number];
  const [M, Cg, KH, KW] = int(w.dims) as [number, number, number, number];
  const [, , OH, OW] = int(y.dims) as [number, number, number, number];
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new Error(`${node.name}: auto_pad ${autoPad}`);
  const group = attrInt(node, 'group', 1);
  const [sh, sw] = int(attrInts(node, 'strides') ?? [1, 1]) as [number, number];
  const [dh, dw] = int(attrInts(node, 'dilations') ?? [1, 1]) as [number, number];
  const [pt, pl] = int(autoPad === 'VALID' ? [0, 0] : (attrInts(node, 'pads') ?? [0, 0, 0, 0])) as [number, number];
  const g: ConvGeometry = { N, C, H, W, M, Cg, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, Mg: (M / group) | 0 };
  return {
    outSize: y.data.length,
    inSize: x.data.length,
    channels: C,
    bias: (j) => (b ? b.data[Math.floor(j / (OH * OW)) % M]! : 0),
    run: (t, xd, z, s, Rin, size) => convRun(g, t, xd, w.data, z, s, Rin, size),
  };
}

/**
 * Rows r of A [M, K] times the columns of B (or Bᵀ with transB): output j = (r, col), input
 * i = (r, k). `channel` gives the zB channel of each input element (default: k) and `channels` their count.
 */
function denseLayer(M: number, K: number, Nn: number, weight: (k: number, col: number) => number, bias: (col: number) => number, channel?: Int32Array, channels = K): LinearLayer {
  const wt = new Float64Array(K * Nn);
  for (let k = 0; k < K; k++) for (let col = 0; col < Nn; col++) wt[col * K + k] = weight(k, col);
  return {
    outSize: M * Nn,
    inSize: M * K,
    channels,
    bias: (j) => bias(j % Nn),
    run(t, xd, z, s, Rin, size) {
      for (let r = 0; r < M; r++)
        for (let col = 0; col < Nn; col++) {
          const j = r * Nn + col;
          const sj = s ? s[j]! : 0;
          if (s && sj === 0) continue;
          let acc = 0, abs = 0;
          for (let k = 0; k < K; k++) {
            const v = contribution(t, xd[r * K + k]!, wt[col * K + k]!, channel ? channel[r * K + k]! : k);
            acc += v;
            abs += Math.abs(v);
            Rin[r * K + k]! += v * sj; // sj = 0 while summing z
          }
          if (!s) z[j]! += acc;
          if (!s && size) size[j]! += abs;
        }
    },
  };
}

function gemmLayer(node: Node, a: RefTensor, bw: RefTensor, c: RefTensor | undefined): LinearLayer {
  if (attrInt(node, 'transA', 0) !== 0) throw new Error(`${node.name}: transA`);
  const transB = attrInt(node, 'transB', 0) === 1;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const [M, K] = a.dims as [number, number];
  const Nn = transB ? bw.dims[0]! : bw.dims[1]!;
  if (c && numel(c.dims) !== Nn) throw new Error(`${node.name}: the reference needs a per-output bias`);
  return denseLayer(M, K, Nn, (k, col) => alpha * bw.data[transB ? col * K + k : k * Nn + col]!, (col) => (c ? beta * c.data[col]! : 0));
}

function matmulLayer(node: Node, a: RefTensor, bw: RefTensor): LinearLayer {
  if (bw.dims.length !== 2 || a.dims.length < 2) throw new Error(`${node.name}: the reference needs A [..., M, K] × constant B [K, N]`);
  const [K, Nn] = bw.dims as [number, number];
  // Batched rows of A all meet the same B; zB channels are axis 1 of A, as for any layer input.
  const inner = numel(a.dims.slice(2));
  const channel = Int32Array.from({ length: a.data.length }, (_, i) => Math.floor(i / inner) % a.dims[1]!);
  return denseLayer(a.data.length / K, K, Nn, (k, col) => bw.data[k * Nn + col]!, () => 0, channel, a.dims[1]!);
}

function linearLayer(node: Node, fwd: Map<string, RefTensor>): LinearLayer {
  const get = (name: string | undefined): RefTensor | undefined => (name ? fwd.get(name) : undefined);
  const x = get(node.inputs[0])!, w = get(node.inputs[1])!, b = get(node.inputs[2]);
  if (node.op === 'Conv') return convLayer(node, x, w, b, get(node.outputs[0])!);
  if (node.op === 'Gemm') return gemmLayer(node, x, w, b);
  if (node.op === 'MatMul') return matmulLayer(node, x, w);
  throw new Error(`${node.name}: ${node.op} is not a linear layer`);
}

function ruleTerms(rule: LinearRule, channels: number, stabilizer: number): RuleTerm[] {
  const bias = (f: (b: number) => number): ((b: number) => number) => (rule.ignoreBias ? () => 0 : f);
  switch (rule.rule) {
    case 'epsilon':
      return [new RuleTerm(XW, bias((b) => b), 1, rule.epsilon)];
    case 'zplus':
      return [new RuleTerm(PLUS, bias(pos), 1, stabilizer)];
    case 'alphabeta':
      return [new RuleTerm(PLUS, bias(pos), rule.alpha, stabilizer), new RuleTerm(MINUS, bias(neg), -rule.beta, stabilizer)].filter((t) => t.coef !== 0);
    case 'zbox': {
      const per = (v: readonly number[]): Float64Array => {
        if (v.length !== 1 && v.length !== channels) throw new Error(`zB bounds: ${v.length} values for ${channels} channels`);
        return Float64Array.from({ length: channels }, (_, c) => (v.length === 1 ? v[0]! : v[c]!));
      };
      return [new RuleTerm(BOX, bias((b) => b - pos(b) - neg(b)), 1, stabilizer, 0, per(rule.low), per(rule.high))];
    }
    case 'gamma':
      // Generalized γ (Andéol et al. 2021; Zennit ≥ 0.5): the enhanced parts follow the output's sign.
      return [
        new RuleTerm(GAMMA_UP, bias((b) => b + rule.gamma * pos(b)), 1, stabilizer, rule.gamma, undefined, undefined, 1),
        new RuleTerm(GAMMA_DOWN, bias((b) => b + rule.gamma * neg(b)), 1, stabilizer, rule.gamma, undefined, undefined, -1),
      ];
    case 'wsquare':
      return [new RuleTerm(SQUARE, bias((b) => b * b), 1, stabilizer)];
    case 'flat':
      return [new RuleTerm(ONE, () => 0, 1, stabilizer)];
    case 'excitation':
      return [new RuleTerm(EXCITE, () => 0, 1, stabilizer)];
  }
}

/**
 * The relevance of a linear layer's input, R_i = Σ_j c_ij / stab(z_j) · R_j, term by term.
 *
 * Where z_j contains the layer's own pre-activation Σ_i x_i w_ij + b_j (ε; zB unless the bias is
 * ignored), that sum is taken as the layer's output y_j from `fwd`, as the compiled graph takes it,
 * after checking that the contributions do add up to it: z_j = (Σ_i c_ij + bias term) + δ_j with
 * δ_j = y_j − (Σ_i x_i w_ij + b_j), which is 0 in exact arithmetic. With Float64 activations δ is
 * ~1e-16; with float32 activations it carries the forward pass's rounding, which the relevance
 * must see the same way the compiled graph does (it divides by y_j, not by a recomputed sum).
 */
export function linearLayerRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, rule: LinearRule, stabilizer = STABILIZER): Float64Array {
  const layer = linearLayer(node, fwd);
  const x = fwd.get(node.inputs[0]!)!.data;
  if (R.length !== layer.outSize) throw new Error(`${node.name}: relevance of ${R.length} values for ${layer.outSize} outputs`);
  const Rin = new Float64Array(layer.inSize);
  const hasBias = !!node.inputs[2];
  let delta: Float64Array | undefined;
  /** Σ_i x_i w_ij, when computed for δ (the ε term reuses it). */
  let xw: Float64Array | undefined;
  if ((rule.rule === 'epsilon' || rule.rule === 'zbox') && (!rule.ignoreBias || !hasBias)) {
    const y = fwd.get(node.outputs[0]!)!.data;
    const sum = new Float64Array(layer.outSize), size = new Float64Array(layer.outSize);
    layer.run(new RuleTerm(XW, (b) => b), x, sum, undefined, Rin, size);
    delta = new Float64Array(layer.outSize);
    for (let j = 0; j < delta.length; j++) {
      const b = layer.bias(j);
      delta[j] = y[j]! - (sum[j]! + b);
      if (!(Math.abs(delta[j]!) <= 1e-4 * (size[j]! + Math.abs(b)) + 1e-30)) {
        throw new Error(`${node.name}: the contributions of output ${j} add up to ${sum[j]! + b}, but the layer's output is ${y[j]}`);
      }
    }
    xw = sum;
  }
  const terms = ruleTerms(rule, layer.channels, stabilizer);
  let plain: Float64Array | undefined;
  if (terms.some((t) => t.outputSign !== 0)) {
    plain = new Float64Array(layer.outSize);
    layer.run(new RuleTerm(XW, (b) => b), x, plain, undefined, Rin);
    for (let j = 0; j < plain.length; j++) plain[j]! += rule.ignoreBias ? 0 : layer.bias(j);
  }
  for (const t of terms) {
    let z: Float64Array;
    if (t.kind === XW && xw) z = xw;
    else layer.run(t, x, (z = new Float64Array(layer.outSize)), undefined, Rin);
    const s = new Float64Array(layer.outSize);
    for (let j = 0; j < z.length; j++) s[j] = (t.coef * R[j]!) / stab(z[j]! + t.biasTerm(layer.bias(j)) + (delta ? delta[j]! : 0), t.epsilon);
    if (plain && t.outputSign !== 0) for (let j = 0; j < s.length; j++) if (Math.sign(plain[j]!) !== t.outputSign) s[j] = 0;
    layer.run(t, x, z, s, Rin);
  }
  return Rin;
}

// ───────────────────────────── proportional ops ─────────────────────────────

/** Flat index of the element of a tensor of `inDims` that broadcasting reads at each element of `outDims`. */
function broadcastIndex(outDims: readonly number[], inDims: readonly number[]): Int32Array {
  const n = numel(outDims);
  const res = new Int32Array(n);
  const shift = outDims.length - inDims.length;
  for (let k = 0; k < n; k++) {
    let rem = k, off = 0, stride = 1;
    for (let d = outDims.length - 1; d >= 0; d--) {
      const idx = rem % outDims[d]!;
      rem = Math.floor(rem / outDims[d]!);
      const id = d - shift;
      if (id >= 0) {
        if (inDims[id] !== 1) off += idx * stride;
        stride *= inDims[id]!;
      }
    }
    res[k] = off;
  }
  return res;
}

/** Add / Sum / Sub: R_k(i) = ±x_k(i) · R / stab(y) (− for Sub's subtrahend), summed over broadcast axes; one array per live operand. */
function sumRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, live: Set<string>, stabilizer: number): (Float64Array | undefined)[] {
  const y = fwd.get(node.outputs[0]!)!;
  const s = Float64Array.from(R, (r, k) => r / stab(y.data[k]!, stabilizer));
  return node.inputs.map((name, i) => {
    if (!live.has(name)) return undefined;
    const x = fwd.get(name)!;
    const sign = node.op === 'Sub' && i === 1 ? -1 : 1;
    const at = broadcastIndex(y.dims, x.dims);
    const out = new Float64Array(x.data.length);
    for (let k = 0; k < s.length; k++) out[at[k]!]! += sign * x.data[at[k]!]! * s[k]!;
    return out;
  });
}

/** AveragePool: each window's relevance split over its inputs in proportion to x_i / count. */
function averagePoolRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, stabilizer: number): Float64Array {
  const x = fwd.get(node.inputs[0]!)!;
  const y = fwd.get(node.outputs[0]!)!;
  const [N, C, H, W] = x.dims as [number, number, number, number];
  const [, , OH, OW] = y.dims as [number, number, number, number];
  const [kh, kw] = attrInts(node, 'kernel_shape')! as [number, number];
  const [sh, sw] = (attrInts(node, 'strides') ?? [1, 1]) as [number, number];
  const [pt, pl, pb, pr] = (attrInts(node, 'pads') ?? [0, 0, 0, 0]) as [number, number, number, number];
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const Rin = new Float64Array(x.data.length);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        // The window, cut at the end of the padded input (ceil_mode windows run past it).
        const h0 = oh * sh - pt, w0 = ow * sw - pl;
        const h1 = Math.min(h0 + kh, H + pb), w1 = Math.min(w0 + kw, W + pr);
        const hs = Math.max(h0, 0), he = Math.min(h1, H), ws = Math.max(w0, 0), we = Math.min(w1, W);
        const count = includePad ? (h1 - h0) * (w1 - w0) : (he - hs) * (we - ws);
        const j = (nc * OH + oh) * OW + ow;
        let z = 0;
        for (let ih = hs; ih < he; ih++) for (let iw = ws; iw < we; iw++) z += x.data[(nc * H + ih) * W + iw]! / count;
        const s = R[j]! / stab(z, stabilizer);
        for (let ih = hs; ih < he; ih++) for (let iw = ws; iw < we; iw++) Rin[(nc * H + ih) * W + iw]! += (x.data[(nc * H + ih) * W + iw]! / count) * s;
      }
  return Rin;
}

function globalAveragePoolRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, stabilizer: number): Float64Array {
  const x = fwd.get(node.inputs[0]!)!;
  const area = numel(x.dims.slice(2));
  const Rin = new Float64Array(x.data.length);
  for (let nc = 0; nc < R.length; nc++) {
    let z = 0;
    for (let a = 0; a < area; a++) z += x.data[nc * area + a]! / area;
    const s = R[nc]! / stab(z, stabilizer);
    for (let a = 0; a < area; a++) Rin[nc * area + a] = (x.data[nc * area + a]! / area) * s;
  }
  return Rin;
}

// ───────────────────────────── blocks of modern classifiers ─────────────────────────────

/** Ops whose output makes a factor a gate (bounded activations). */
const GATE_SOURCES = new Set(['Sigmoid', 'HardSigmoid', 'Erf', 'Tanh', 'Clip']);
/** Ops that only rearrange or copy values. */
const VIEW_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand', 'Identity', 'Transpose']);

/**
 * Whether tensor `name` is a gate: the output of a bounded activation, possibly shifted or scaled by
 * constants (Add/Sub/Mul/Div with one initializer operand) and reshaped, at most 8 producers back
 * (METHODS.md, "Modern blocks": σ(·) of squeeze-excitation, Φ(x) = ½(1 + erf(x/√2)) of GELU).
 */
export function isGateTensor(graph: Graph, name: string): boolean {
  let t = name;
  for (let depth = 0; depth < 8; depth++) {
    const p = graph.nodes.find((n) => n.outputs.includes(t));
    if (!p) return false;
    if (GATE_SOURCES.has(p.op)) return true;
    if (VIEW_OPS.has(p.op)) t = p.inputs[0]!;
    else if (p.op === 'Add' || p.op === 'Sub' || p.op === 'Mul' || p.op === 'Div') {
      const varying = p.inputs.filter((i) => !graph.initializers.has(i));
      if (varying.length !== 1) return false;
      t = varying[0]!;
    } else return false;
  }
  return false;
}

/** Sums a relevance of `outDims` over the axes along which a tensor of `inDims` was broadcast to it. */
function unbroadcastRelevance(R: Float64Array, outDims: readonly number[], inDims: readonly number[], scale = 1): Float64Array {
  const at = broadcastIndex(outDims, inDims);
  const out = new Float64Array(numel(inDims));
  for (let k = 0; k < R.length; k++) out[at[k]!]! += scale * R[k]!;
  return out;
}

/**
 * Mul or Div of two input-dependent tensors. A gate factor is a constant of the forward pass: the
 * other factor receives all relevance. A quotient's numerator receives all (the denominator is a
 * normalizer). Any other product: AttnLRP's uniform rule, half to each factor (summed over the
 * axes it was broadcast along). One relevance array per input (undefined: none).
 */
function productRelevance(node: Node, graph: Graph, fwd: Map<string, RefTensor>, R: Float64Array): (Float64Array | undefined)[] {
  const y = fwd.get(node.outputs[0]!)!;
  const [a, b] = node.inputs as [string, string];
  const whole = (name: string): Float64Array => {
    if (!sameDims(fwd.get(name)!.dims, y.dims)) throw new Error(`${node.name}: all relevance to a factor that is broadcast (${node.op})`);
    return Float64Array.from(R);
  };
  if (node.op === 'Div') return [whole(a), undefined];
  const gateA = isGateTensor(graph, a), gateB = isGateTensor(graph, b);
  if (gateB && !gateA) return [whole(a), undefined];
  if (gateA && !gateB) return [undefined, whole(b)];
  return [unbroadcastRelevance(R, y.dims, fwd.get(a)!.dims, 0.5), unbroadcastRelevance(R, y.dims, fwd.get(b)!.dims, 0.5)];
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * MatMul of two input-dependent tensors A [..., M, K] · B [..., K, N] (attention), by AttnLRP's
 * uniform rule from the contributions c_ikj = A_ik B_kj of y_ij = Σ_k c_ikj:
 * R_A,ik = ½ Σ_j c_ikj R_ij / stab(y_ij), R_B,kj = ½ Σ_i c_ikj R_ij / stab(y_ij), summed over
 * broadcast batch axes.
 */
function bilinearRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, stabilizer: number): [Float64Array, Float64Array] {
  const A = fwd.get(node.inputs[0]!)!, B = fwd.get(node.inputs[1]!)!, y = fwd.get(node.outputs[0]!)!;
  if (A.dims.length < 2 || B.dims.length < 2) throw new Error(`${node.name}: the reference needs both MatMul operands of rank ≥ 2`);
  const M = A.dims[A.dims.length - 2]!, K = A.dims[A.dims.length - 1]!, N = B.dims[B.dims.length - 1]!;
  const batch = y.dims.slice(0, -2);
  const atA = broadcastIndex(batch, A.dims.slice(0, -2)), atB = broadcastIndex(batch, B.dims.slice(0, -2));
  const RA = new Float64Array(A.data.length), RB = new Float64Array(B.data.length);
  for (let bi = 0; bi < numel(batch); bi++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        const yj = (bi * M + i) * N + j;
        const s = R[yj]! / stab(y.data[yj]!, stabilizer);
        for (let k = 0; k < K; k++) {
          const ia = (atA[bi]! * M + i) * K + k, ib = (atB[bi]! * K + k) * N + j;
          const c = A.data[ia]! * B.data[ib]!;
          RA[ia]! += 0.5 * c * s;
          RB[ib]! += 0.5 * c * s;
        }
      }
  return [RA, RB];
}

/**
 * Softmax inside the graph by AttnLRP's rule (Achtibat et al. 2024, Prop. 3.1): the ε rule (no
 * bias, no stabilizer) on the first-order expansion at x, connection by connection along the axis:
 * R_i = Σ_j x_i · (∂s_j/∂x_i) / s_j · R_j, with ∂s_j/∂x_i / s_j = δ_ij − s_i.
 */
function softmaxRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array): Float64Array {
  const x = fwd.get(node.inputs[0]!)!, s = fwd.get(node.outputs[0]!)!;
  const r = x.dims.length;
  const a0 = attrInt(node, 'axis', -1);
  const axis = a0 < 0 ? a0 + r : a0;
  const len = x.dims[axis]!, inner = numel(x.dims.slice(axis + 1)), outer = numel(x.dims.slice(0, axis));
  const Rin = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++)
    for (let q = 0; q < inner; q++) {
      const at = (t: number): number => (o * len + t) * inner + q;
      for (let i = 0; i < len; i++)
        for (let j = 0; j < len; j++) Rin[at(i)]! += x.data[at(i)]! * ((i === j ? 1 : 0) - s.data[at(i)]!) * R[at(j)]!;
    }
  return Rin;
}

/**
 * LayerNormalization / InstanceNormalization with 1/σ a constant of the forward pass (AttnLRP's LN
 * rule): y_j = Σ_i c_ij + β_j over the normalized group with c_ij = x_i · r · γ_j · (δ_ij − 1/n),
 * and the ε rule R_i = Σ_j c_ij R_j / stab(y_j).
 */
function normalizationRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, stabilizer: number): Float64Array {
  const x = fwd.get(node.inputs[0]!)!, y = fwd.get(node.outputs[0]!)!;
  const scale = node.inputs[1] ? fwd.get(node.inputs[1]) : undefined;
  let n: number;
  let gammaOf: (k: number) => number;
  if (node.op === 'LayerNormalization') {
    const a0 = attrInt(node, 'axis', -1);
    const tail = x.dims.slice(a0 < 0 ? a0 + x.dims.length : a0);
    n = numel(tail);
    const at = scale ? broadcastIndex(tail, scale.dims) : undefined;
    gammaOf = (k) => (scale ? scale.data[at![k % n]!]! : 1);
  } else {
    n = numel(x.dims.slice(2));
    gammaOf = (k) => scale!.data[Math.floor(k / n) % x.dims[1]!]!;
  }
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const Rin = new Float64Array(x.data.length);
  for (let g0 = 0; g0 < x.data.length; g0 += n) {
    let mean = 0, sq = 0;
    for (let i = 0; i < n; i++) mean += x.data[g0 + i]! / n;
    for (let i = 0; i < n; i++) sq += (x.data[g0 + i]! - mean) ** 2 / n;
    const r = 1 / Math.sqrt(sq + eps);
    for (let j = 0; j < n; j++) {
      const s = R[g0 + j]! / stab(y.data[g0 + j]!, stabilizer);
      for (let i = 0; i < n; i++) Rin[g0 + i]! += x.data[g0 + i]! * r * gammaOf(g0 + j) * ((i === j ? 1 : 0) - 1 / n) * s;
    }
  }
  return Rin;
}

/**
 * ReduceMean / ReduceSum (contributions x_i/n or x_i over y), ReduceSumSquare (x_i² over y) and
 * ReduceL2 (x_i² over y²): R_i = c_i R_o / stab(z_o) for the output o that input i is reduced into.
 */
function reductionRelevance(node: Node, fwd: Map<string, RefTensor>, R: Float64Array, stabilizer: number): Float64Array {
  const x = fwd.get(node.inputs[0]!)!, y = fwd.get(node.outputs[0]!)!;
  const r = x.dims.length;
  const listed = node.inputs[1] ? Array.from(fwd.get(node.inputs[1])!.data) : (attrInts(node, 'axes') ?? []);
  const axes = new Set(listed.length ? listed.map((a) => (a < 0 ? a + r : a)) : attrInt(node, 'noop_with_empty_axes', 0) === 1 ? [] : x.dims.map((_, i) => i));
  const count = numel(x.dims.filter((_, i) => axes.has(i)));
  const kept = x.dims.map((d, i) => (axes.has(i) ? 1 : d));
  const at = broadcastIndex(x.dims, kept);
  const Rin = new Float64Array(x.data.length);
  for (let k = 0; k < x.data.length; k++) {
    const o = at[k]!, v = x.data[k]!, yo = y.data[o]!;
    switch (node.op) {
      case 'ReduceMean': Rin[k] = ((v / count) * R[o]!) / stab(yo, stabilizer); break;
      case 'ReduceSum': Rin[k] = (v * R[o]!) / stab(yo, stabilizer); break;
      case 'ReduceSumSquare': Rin[k] = (v * v * R[o]!) / stab(yo, stabilizer); break;
      case 'ReduceL2': Rin[k] = (v * v * R[o]!) / stab(yo * yo, stabilizer); break;
      default: throw new Error(`${node.name}: no proportional rule for ${node.op}`);
    }
  }
  return Rin;
}

// ───────────────────────────── the backward walk ─────────────────────────────

function liveTensors(graph: Graph): Set<string> {
  const live = new Set([graph.inputs[0]!.name]);
  for (const n of graph.nodes) if (n.inputs.some((i) => i && live.has(i))) for (const o of n.outputs) if (o) live.add(o);
  return live;
}

/** The plain gradient of one node for input `input`, given the signal on its output `output` (eager.ts). */
function nodeGradient(node: Node, fwd: Map<string, RefTensor>, input: string, output: string, R: Float64Array): Float64Array {
  const x = fwd.get(input)!;
  const one: Graph = {
    name: node.name,
    inputs: [{ name: input, dtype: 'float32', shape: x.dims }],
    outputs: [{ name: output, dtype: 'float32', shape: fwd.get(output)!.dims }],
    nodes: [node],
    initializers: new Map(),
    values: new Map(),
  };
  return backward(one, fwd, R, 'gradient');
}

/**
 * Propagates `seed` (on the graph output) back to the graph input with the LRP treatment `choose`
 * gives each node, over the tensors of `forward(graph, input)`. Relevance meeting at a tensor is
 * summed. Returns the relevance of the graph input.
 */
export function lrpBackward(
  graph: Graph,
  fwd: Map<string, RefTensor>,
  seed: ArrayLike<number>,
  choose: LrpChooser,
  stabilizer = STABILIZER,
  /** When given, receives the relevance of every tensor reached (for layer-by-layer comparisons). */
  trace?: Map<string, Float64Array>,
): Float64Array {
  const live = liveTensors(graph);
  const outName = graph.outputs[0]!.name;
  if (seed.length !== fwd.get(outName)!.data.length) throw new Error(`seed of ${seed.length} values for output [${fwd.get(outName)!.dims}]`);
  const rel = new Map<string, Float64Array>([[outName, Float64Array.from(seed)]]);
  const add = (name: string, r: Float64Array): void => {
    const have = rel.get(name);
    if (!have) rel.set(name, r);
    else for (let i = 0; i < r.length; i++) have[i]! += r[i]!;
  };
  for (let ni = graph.nodes.length - 1; ni >= 0; ni--) {
    const node = graph.nodes[ni]!;
    const outR = node.outputs.map((o) => (o ? rel.get(o) : undefined));
    if (outR.every((r) => r === undefined)) continue;
    const liveIns = node.inputs.filter((n) => n && live.has(n));
    if (liveIns.length === 0) continue;
    const R = outR[0]!;
    const choice = choose(node, graph);
    if (node.op === 'Einsum') {
      // ε rule on the contributions c = Π operands of each output; with two input-dependent operands
      // each gets half (the uniform rule), with one the whole.
      const ops = node.inputs.map((n) => fwd.get(n)!);
      const y = fwd.get(node.outputs[0]!)!;
      const share = 1 / node.inputs.filter((n) => live.has(n)).length;
      const out = ops.map((t) => new Float64Array(t.data.length));
      einsumTerms(attrString(node, 'equation', ''), ops.map((t) => t.dims)).visit((o, at) => {
        let c = 1;
        at.forEach((a, i) => (c *= ops[i]!.data[a]!));
        const r = (share * c * R[o]!) / stab(y.data[o]!, stabilizer);
        at.forEach((a, i) => (out[i]![a]! += r));
      });
      node.inputs.forEach((n, i) => live.has(n) && add(n, out[i]!));
    } else if (node.op === 'MatMul' && live.has(node.inputs[1]!)) {
      // Two input-dependent factors (attention): the uniform rule, whatever the chooser says of layers.
      if (!live.has(node.inputs[0]!)) throw new Error(`${node.name}: a MatMul whose constant is on the left`);
      const [ra, rb] = bilinearRelevance(node, fwd, R, stabilizer);
      add(node.inputs[0]!, ra);
      add(node.inputs[1]!, rb);
    } else if (node.op === 'Div' && live.has(node.inputs[1]!) && !live.has(node.inputs[0]!)) {
      throw new Error(`${node.name}: relevance through the reciprocal of an activation`);
    } else if ((node.op === 'Mul' || node.op === 'Div') && live.has(node.inputs[0]!) && live.has(node.inputs[1]!)) {
      productRelevance(node, graph, fwd, R).forEach((r, k) => r && add(node.inputs[k]!, r));
    } else if (node.op === 'Pow' && live.has(node.inputs[1]!)) {
      throw new Error(`${node.name}: relevance through a power with an input-dependent exponent`);
    } else if (choice === 'softmax') {
      add(node.inputs[0]!, softmaxRelevance(node, fwd, R));
    } else if (typeof choice === 'object') {
      if (!LINEAR_OPS.has(node.op)) throw new Error(`${node.name}: a linear rule at a ${node.op}`);
      if (node.inputs.slice(1).some((n) => live.has(n))) throw new Error(`${node.name}: input-dependent weights`);
      add(node.inputs[0]!, linearLayerRelevance(node, fwd, R, choice, stabilizer));
    } else if (choice === 'pass') {
      if (liveIns.length !== 1) throw new Error(`${node.name}: relevance cannot pass through ${node.op} of ${liveIns.length} activations`);
      if (numel(fwd.get(liveIns[0]!)!.dims) !== R.length) throw new Error(`${node.name}: pass between shapes of different size`);
      add(liveIns[0]!, Float64Array.from(R));
    } else if (choice === 'proportional') {
      if (node.op === 'Add' || node.op === 'Sum' || node.op === 'Sub') {
        sumRelevance(node, fwd, R, live, stabilizer).forEach((r, k) => r && add(node.inputs[k]!, r));
      } else if (node.op === 'AveragePool') add(node.inputs[0]!, averagePoolRelevance(node, fwd, R, stabilizer));
      else if (node.op === 'GlobalAveragePool') add(node.inputs[0]!, globalAveragePoolRelevance(node, fwd, R, stabilizer));
      else if (node.op.startsWith('Reduce')) add(node.inputs[0]!, reductionRelevance(node, fwd, R, stabilizer));
      else if (node.op === 'LayerNormalization' || node.op === 'InstanceNormalization') {
        if (node.inputs.slice(1).some((n) => n && live.has(n))) throw new Error(`${node.name}: the scale and bias must be constants`);
        add(node.inputs[0]!, normalizationRelevance(node, fwd, R, stabilizer));
      } else throw new Error(`${node.name}: no proportional rule for ${node.op}`);
    } else {
      // The plain gradient, input by input and output by output (it is linear in the signal).
      for (const input of new Set(liveIns)) {
        node.outputs.forEach((o, k) => {
          const r = outR[k];
          if (o && r) add(input, nodeGradient(node, fwd, input, o, r));
        });
      }
    }
  }
  if (trace) for (const [name, r] of rel) trace.set(name, r);
  const inp = graph.inputs[0]!.name;
  return rel.get(inp) ?? new Float64Array(fwd.get(inp)!.data.length);
}

// ───────────────────────────── methods ─────────────────────────────

/** The treatment of a node that is not a linear layer. */
export function nonLinearChoice(node: Node): 'pass' | 'gradient' | 'proportional' | 'softmax' {
  if (node.op === 'Softmax') return 'softmax';
  if (PASS_OPS.has(node.op)) return 'pass';
  if (PROPORTIONAL_OPS.has(node.op)) return 'proportional';
  return 'gradient';
}

/** The first Conv/Gemm/MatMul in topological order (the layer that sees the pixels). */
function firstLinear(graph: Graph): Node | undefined {
  return graph.nodes.find((n) => LINEAR_OPS.has(n.op));
}

/** Per-layer-kind rules: `first` for the first linear layer, `conv` for Conv, `dense` for Gemm/MatMul. */
export function layerRules(rules: { first?: LinearRule; conv: LinearRule; dense: LinearRule }): LrpChooser {
  return (node, graph) => {
    if (!LINEAR_OPS.has(node.op)) return nonLinearChoice(node);
    if (rules.first && firstLinear(graph) === node) return rules.first;
    return node.op === 'Conv' ? rules.conv : rules.dense;
  };
}

export const ruleEverywhere = (rule: LinearRule): LrpChooser => layerRules({ conv: rule, dense: rule });

export interface Box {
  low: readonly number[];
  high: readonly number[];
}

/** The built-in composites, written from METHODS.md and the brief (not from src/). */
export function compositeChooser(name: 'gu2018' | 'epsilon-plus-flat' | 'epsilon-gamma-box', epsilon = 1e-6, box?: Box): LrpChooser {
  const needBox = (): Box => {
    if (!box) throw new Error(`${name} needs a box`);
    return box;
  };
  switch (name) {
    case 'gu2018':
      return layerRules({ first: { rule: 'zbox', ...needBox(), ignoreBias: true }, conv: { rule: 'zplus', ignoreBias: true }, dense: { rule: 'zplus', ignoreBias: true } });
    case 'epsilon-plus-flat':
      return layerRules({ first: { rule: 'flat' }, conv: { rule: 'zplus' }, dense: { rule: 'epsilon', epsilon } });
    case 'epsilon-gamma-box':
      return layerRules({ first: { rule: 'zbox', ...needBox() }, conv: { rule: 'gamma', gamma: 0.25 }, dense: { rule: 'epsilon', epsilon } });
  }
}

/**
 * CLRP2's dual network: a copy of the graph whose last linear layer has the weights of class
 * `target` negated (w_·j → −w_·j); its bias and every other class are unchanged. The last linear
 * layer is the node writing the logits, or the Conv/Gemm/MatMul behind a chain of pure reshapes
 * (Flatten, Reshape, Squeeze, Unsqueeze) that writes them, such as a 1×1-conv classifier head.
 */
export function negateTargetWeights(graph: Graph, target: number): Graph {
  const last = lastLinearLayer(graph);
  const wName = last.inputs[1]!;
  const w = graph.initializers.get(wName);
  if (!w) throw new Error('the last layer needs a constant weight');
  const values = toNumbers(w);
  if (last.op === 'Conv') {
    // Output channel `target`: the filter w[target, …].
    const per = numel(w.dims.slice(1));
    for (let k = 0; k < per; k++) values[target * per + k] = -values[target * per + k]!;
  } else {
    if (w.dims.length !== 2) throw new Error('the last dense layer needs a 2-D weight');
    const [r, c] = w.dims as [number, number];
    const byRow = last.op === 'Gemm' && attrInt(last, 'transB', 0) === 1;
    if (byRow) for (let k = 0; k < c; k++) values[target * c + k] = -values[target * c + k]!;
    else for (let k = 0; k < r; k++) values[k * c + target] = -values[k * c + target]!;
  }
  const initializers = new Map(graph.initializers);
  initializers.set(wName, float32([...w.dims], values));
  return { ...graph, initializers };
}

/** The linear layer writing the logits, directly or through pure reshapes (see `negateTargetWeights`). */
export function lastLinearLayer(graph: Graph): Node {
  const byOutput = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  let last = byOutput.get(graph.outputs[0]!.name);
  while (last && ['Flatten', 'Reshape', 'Squeeze', 'Unsqueeze'].includes(last.op)) last = byOutput.get(last.inputs[0]!);
  if (!last || !LINEAR_OPS.has(last.op)) throw new Error(`the logits are not written by a linear layer (${last?.op})`);
  return last;
}

/**
 * The forward values of the dual network `g2` (from `negateTargetWeights`): those of the original
 * network `fwd` up to its last linear layer, then that layer (with the negated weights) and the
 * reshapes after it evaluated again by the eager forward pass from the layer's input in `fwd`.
 */
function dualForward(g2: Graph, fwd: Map<string, RefTensor>): Map<string, RefTensor> {
  const last = lastLinearLayer(g2);
  const x = fwd.get(last.inputs[0]!)!;
  const tail = g2.nodes.slice(g2.nodes.indexOf(last));
  const tailGraph: Graph = {
    name: `${g2.name}/dual`,
    inputs: [{ name: last.inputs[0]!, dtype: 'float32', shape: x.dims }],
    outputs: g2.outputs,
    nodes: tail,
    initializers: g2.initializers,
    values: new Map(),
  };
  const own = forward(tailGraph, x.data);
  const out = new Map(fwd);
  for (const node of tail) for (const o of node.outputs) if (o) out.set(o, own.get(o)!);
  out.set(last.inputs[1]!, own.get(last.inputs[1]!)!);
  return out;
}

/** max(0, R − R_dual) on one map; with `normalize`, each map is first divided by its own sum. */
export function contrast(R: Float64Array, dual: Float64Array, normalize: boolean): Float64Array {
  const sum = (a: Float64Array): number => a.reduce((s, v) => s + v, 0);
  const sr = normalize ? sum(R) : 1, sd = normalize ? sum(dual) : 1;
  return Float64Array.from(R, (r, i) => Math.max(0, r / sr - dual[i]! / sd));
}

export type EagerLrpMethod =
  | 'lrp-epsilon' | 'lrp-zplus' | 'lrp-alphabeta' | 'lrp' | 'clrp1' | 'clrp2' | 'excitation' | 'contrastive-excitation';

export interface EagerLrpParams {
  epsilon?: number;
  alpha?: number;
  beta?: number;
  /** A built-in composite, or rules per layer kind. */
  composite?: 'gu2018' | 'epsilon-plus-flat' | 'epsilon-gamma-box' | { first?: LinearRule; conv: LinearRule; dense: LinearRule };
  box?: Box;
  normalize?: boolean;
  seed?: 'one' | 'logit';
}

/** The rule table and contrastive kind of an LRP method. */
export function methodRules(method: EagerLrpMethod, p: EagerLrpParams = {}): { choose: LrpChooser; dual?: 'clrp1' | 'clrp2' } {
  const composite = (): LrpChooser => (typeof p.composite === 'object' ? layerRules(p.composite) : compositeChooser(p.composite ?? 'gu2018', p.epsilon ?? 1e-6, p.box));
  switch (method) {
    case 'lrp-epsilon': return { choose: ruleEverywhere({ rule: 'epsilon', epsilon: p.epsilon ?? 1e-6 }) };
    case 'lrp-zplus': return { choose: ruleEverywhere({ rule: 'zplus' }) };
    case 'lrp-alphabeta': return { choose: ruleEverywhere({ rule: 'alphabeta', alpha: p.alpha ?? 1, beta: p.beta ?? 0 }) };
    case 'lrp': return { choose: composite() };
    case 'clrp1': return { choose: composite(), dual: 'clrp1' };
    case 'clrp2': return { choose: composite(), dual: 'clrp2' };
    case 'excitation': return { choose: ruleEverywhere({ rule: 'excitation' }) };
    case 'contrastive-excitation': return { choose: ruleEverywhere({ rule: 'excitation' }), dual: 'clrp2' };
  }
}

/**
 * The attribution of an LRP method for a batch: `input` holds the N images of the graph's input
 * shape, `targets[n]` the K classes explained for image n. The seed on the logits is the target's
 * logit (or 1 with `seed: 'one'`). CLRP1's dual puts S_j/(C − 1) on every other class; CLRP2's
 * dual propagates the same seed through the network with the target's last-layer weights negated.
 * Returns [N, K, …input dims without batch] as a flat array.
 *
 * `activations` replaces the forward values of the graph's tensors (node outputs, logits included),
 * e.g. by the float32 activations of the compiled graph, so that a comparison measures the
 * relevance propagation alone and not the forward pass's rounding, which the z-rule's denominators
 * amplify where their terms nearly cancel (|z_j| ≪ Σ_i |c_ij|).
 */
export function eagerLrp(
  graph: Graph,
  input: ArrayLike<number>,
  targets: number[][],
  method: EagerLrpMethod,
  params: EagerLrpParams = {},
  activations?: ReadonlyMap<string, RefTensor>,
): Float64Array {
  const { choose, dual } = methodRules(method, params);
  const fwd = forward(graph, input);
  for (const [name, t] of activations ?? []) {
    const have = fwd.get(name);
    if (!have || have.data.length !== t.data.length) throw new Error(`activation '${name}' does not match the graph's tensor`);
    fwd.set(name, t);
  }
  const logits = fwd.get(graph.outputs[0]!.name)!;
  const [N, C] = logits.dims as [number, number];
  if (targets.length !== N) throw new Error(`targets for ${targets.length} images, batch ${N}`);
  const K = targets[0]!.length;
  const inDims = fwd.get(graph.inputs[0]!.name)!.dims;
  const per = numel(inDims.slice(1));
  const out = new Float64Array(N * K * per);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const t = targets[n]![k]!;
      const value = params.seed === 'one' ? 1 : logits.data[n * C + t]!;
      const seed = new Float64Array(N * C);
      seed[n * C + t] = value;
      const image = (r: Float64Array): Float64Array => r.slice(n * per, (n + 1) * per);
      let R = image(lrpBackward(graph, fwd, seed, choose));
      if (dual) {
        let Rdual: Float64Array;
        if (dual === 'clrp1') {
          const others = new Float64Array(N * C);
          for (let c = 0; c < C; c++) if (c !== t) others[n * C + c] = value / (C - 1);
          Rdual = image(lrpBackward(graph, fwd, others, choose));
        } else {
          const g2 = negateTargetWeights(graph, t);
          Rdual = image(lrpBackward(g2, dualForward(g2, fwd), seed, choose));
        }
        R = contrast(R, Rdual, params.normalize ?? false);
      }
      out.set(R, (n * K + k) * per);
    }
  return out;
}
