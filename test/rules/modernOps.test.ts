/**
 * The ops and LRP rules of modern classifiers (reductions, gates, GELU, LayerNorm fused and written
 * out, InstanceNorm, attention, routing ops, elementwise functions), compiled through the public API,
 * against the independent eager Float64 reference (test/reference/eager.ts, eagerLrp.ts), with
 * N = 2 images and K = 2 targets (random seeds on the logits for the gradient family).
 *
 * Rules covered: reductions (Mean, Sum, SumSquare, L2, Max with ties, Min), gates (Sigmoid, Erf,
 * Tanh, Clip through constant shifts and scales), the uniform rule of two-signal products (Mul,
 * MatMul), the quotient rule (LayerNorm's Div by σ), Sub, LayerNormalization, InstanceNormalization,
 * GroupNormalization and Gelu (as imported), Softmax and LogSoftmax inside the graph, Gather,
 * Expand, Tile, Where, Pow, and Erf, Exp, Log, Sqrt, Reciprocal, Neg, Abs, Sin, Cos, Softplus, Elu,
 * Identity, Cast, Dropout on signals.
 *
 * The reference is first checked itself on these models: its forward pass against onnxruntime and
 * its gradient against finite differences. LRP is compared on the compiled graph's own float32
 * activations (taps, checked against the Float64 forward pass), as in test/lrp.reference.test.ts.
 */
import { runOrt } from '../helpers/ort.js';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/canonicalize/index.js';
import { Explainer } from '../../src/index.js';
import type { Graph } from '../../src/ir/graph.js';
import type { Explanation } from '../../src/methods/explainer.js';
import { GRADIENT_FAMILY, type MethodName, type MethodParams } from '../../src/methods/methods.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { backward, finiteDiffGradient, forward, numel, relativeL2, type RefTensor } from '../reference/eager.js';
import { eagerLrp, lrpBackward, ruleEverywhere, type Box, type EagerLrpMethod, type EagerLrpParams } from '../reference/eagerLrp.js';
import {
  modernTinyModels,
  randomInput,
  Rng,
  tinyAttentionNet,
  tinyGatedActivationNet,
  tinyInstanceNormNet,
  tinyLayerNormNet,
  tinyPowNet,
  tinySqueezeExcitationNet,
  type TinyModel,
} from '../reference/tinyModels.js';

const TOLERANCE = 1e-4;
const N = 2;
const TARGETS = [[0, 2], [1, 0]];
const BOX: Box = { low: [-2, -2.1], high: [2.5, 2.6] };

interface LrpCase {
  label: string;
  method: EagerLrpMethod;
  params: EagerLrpParams;
}

const LRP_CASES: LrpCase[] = [
  { label: 'lrp-epsilon', method: 'lrp-epsilon', params: {} },
  { label: 'lrp-epsilon ε=0.1', method: 'lrp-epsilon', params: { epsilon: 0.1 } },
  { label: 'lrp-zplus', method: 'lrp-zplus', params: {} },
  { label: 'lrp epsilon-gamma-box ε=0.01', method: 'lrp', params: { composite: 'epsilon-gamma-box', box: BOX, epsilon: 0.01 } },
  { label: 'lrp epsilon-plus-flat', method: 'lrp', params: { composite: 'epsilon-plus-flat' } },
  { label: 'clrp2', method: 'clrp2', params: { box: BOX } },
  { label: 'excitation', method: 'excitation', params: {} },
];

const models = modernTinyModels();

/** Worst relative l2 error per method, over the models (printed at the end). */
const worst = new Map<string, { err: number; model: string }>();
function record(label: string, model: string, err: number): number {
  const w = worst.get(label);
  if (!w || err > w.err) worst.set(label, { err, model });
  return err;
}
afterAll(() => {
  const lines = [...worst].map(([label, w]) => `  ${label.padEnd(32)} ${w.err.toExponential(2)}  (${w.model})`);
  if (lines.length) console.log(`modern blocks vs eager reference, worst relative l2 per method:\n${lines.join('\n')}`);
});
const batchDims = (m: TinyModel): number[] => [N, ...m.inputShape.slice(1)];
const canonical = (m: TinyModel): Graph => canonicalize(decodeModel(m.bytes).graph, m.inputShape).graph;


describe('eager reference on modern blocks', () => {
  it('LRP refuses a power with an input-dependent exponent', async () => {
    const m = tinyPowNet();
    const ex = await Explainer.load(m.bytes);
    await expect(ex.explain({ data: randomInput(m.inputShape, 7), dims: m.inputShape }, { method: 'lrp-epsilon', target: 0 })).rejects.toThrow(/input-dependent exponent/);
  });

  it.each([...models, tinyPowNet()].map((m) => [m.name, m] as const))('%s: forward equals onnxruntime, gradient equals finite differences', async (_, m) => {
    const x = randomInput(m.inputShape, 7);
    const logits = forward(m.graph, x).get('logits')!;
    expect(relativeL2(await runOrt(m.bytes, x, m.inputShape), logits.data)).toBeLessThan(1e-5);
    const seed = [0.7, -1.1, 0.4];
    const g = backward(m.graph, forward(m.graph, x), seed, 'gradient');
    expect(relativeL2(g, finiteDiffGradient(m.graph, x, seed))).toBeLessThan(1e-5);
    // The canonical graph (what the LRP reference runs on) computes the same logits.
    expect(relativeL2(forward(canonical(m), x).get(canonical(m).outputs[0]!.name)!.data, logits.data)).toBeLessThan(1e-6); // constants folded in float32
  });
});

describe('gradient family: compiled rules equal the eager reference (N = 2, K = 2 random seeds)', () => {
  for (const m of [...models, tinyPowNet()]) {
    it.each(GRADIENT_FAMILY.map((method) => [method] as const))(`${m.name}: %s`, async (method) => {
      const ex = await Explainer.load(m.bytes);
      const dims = batchDims(m);
      const x = randomInput(dims, 11);
      const classes = 3, per = numel(dims.slice(1));
      const rng = new Rng(5);
      const seeds = Float32Array.from({ length: N * 2 * classes }, () => rng.normal());
      const r = await ex.explain({ data: x, dims }, { method, target: { seeds, k: 2 } });
      for (let n = 0; n < N; n++) {
        const image = x.subarray(n * per, (n + 1) * per);
        const fwd = forward(m.graph, image);
        for (let k = 0; k < 2; k++) {
          const seed = Float64Array.from(seeds.subarray((n * 2 + k) * classes, (n * 2 + k + 1) * classes));
          const ref = backward(m.graph, fwd, seed, method === 'gradient-x-input' ? 'gradient' : method);
          if (method === 'gradient-x-input') for (let i = 0; i < ref.length; i++) ref[i]! *= image[i]!;
          const got = r.attribution.data.subarray((n * 2 + k) * per, (n * 2 + k + 1) * per);
          expect(record(method, m.name, relativeL2(got, ref)), `image ${n}, seed ${k}`).toBeLessThan(TOLERANCE);
        }
      }
    });
  }
});

interface Setup {
  ex: Explainer;
  graph: Graph;
  taps: string[];
}

async function load(m: TinyModel): Promise<Setup> {
  const ex = await Explainer.load(m.bytes);
  const graph = canonical(m);
  const live = new Set([graph.inputs[0]!.name]);
  const taps: string[] = [];
  for (const n of graph.nodes) {
    if (!n.inputs.some((i) => live.has(i))) continue;
    for (const o of n.outputs) {
      live.add(o);
      if (o && o !== graph.outputs[0]!.name) taps.push(o);
    }
  }
  return { ex, graph, taps };
}

/** The eager LRP of image n on the compiled graph's float32 activations (checked against Float64). */
function lrpReference(s: Setup, x: Float32Array, per: number, c: LrpCase, r: Explanation): Float64Array {
  const out = new Float64Array(N * 2 * per);
  for (let n = 0; n < N; n++) {
    const acts = new Map<string, RefTensor>();
    const take = (name: string, t: { data: Float32Array; dims: number[] }): void => {
      const size = t.data.length / N;
      acts.set(name, { dims: [1, ...t.dims.slice(1)], data: Float64Array.from(t.data.subarray(n * size, (n + 1) * size)) });
    };
    for (const tap of s.taps) take(tap, r.taps[tap]!.activation);
    take(s.graph.outputs[0]!.name, r.logits);
    const image = x.subarray(n * per, (n + 1) * per);
    const exact = forward(s.graph, image);
    for (const [name, t] of acts) expect(relativeL2(t.data, exact.get(name)!.data), `activation ${name}`).toBeLessThan(1e-5);
    out.set(eagerLrp(s.graph, image, [TARGETS[n]!], c.method, c.params, acts), n * 2 * per);
  }
  return out;
}

describe('LRP: compiled rules equal the eager reference (N = 2, K = 2 targets)', () => {
  for (const m of models) {
    let setup: Promise<Setup> | undefined;
    it.each(LRP_CASES.map((c) => [c.label, c] as const))(`${m.name}: %s`, async (_, c) => {
      const s = await (setup ??= load(m));
      const dims = batchDims(m);
      const x = randomInput(dims, 17);
      const per = numel(dims.slice(1));
      const r = await s.ex.explain({ data: x, dims }, { method: c.method as MethodName, target: TARGETS, params: c.params as MethodParams, reductions: [], taps: s.taps });
      const ref = lrpReference(s, x, per, c, r);
      expect(ref.some((v) => Math.abs(v) > 1e-9), 'the reference map is not trivially zero').toBe(true);
      for (let j = 0; j < N * 2; j++) {
        const err = relativeL2(r.attribution.data.subarray(j * per, (j + 1) * per), ref.subarray(j * per, (j + 1) * per));
        expect(record(c.label, m.name, err), `map ${j}`).toBeLessThan(TOLERANCE);
      }
    });
  }
});

/** Every method the API offers on these models, with the parameters it needs. */
const EVERY_METHOD: { method: MethodName; params?: MethodParams }[] = [
  ...GRADIENT_FAMILY.map((method) => ({ method })),
  { method: 'lrp-epsilon' },
  { method: 'lrp-zplus' },
  { method: 'lrp-alphabeta', params: { alpha: 2, beta: 1 } as MethodParams },
  { method: 'lrp', params: { composite: 'epsilon-plus-flat' } as MethodParams },
  { method: 'lrp', params: { composite: 'epsilon-gamma-box', box: BOX, epsilon: 0.01 } as MethodParams },
  { method: 'clrp1', params: { box: BOX } as MethodParams },
  { method: 'clrp2', params: { box: BOX } as MethodParams },
  { method: 'excitation' },
  { method: 'contrastive-excitation' },
];

describe('LayerNorm written out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) equals the fused op', () => {
  for (const bias of [true, false]) {
    const fused = tinyLayerNormNet('fused', { bias });
    const decomposed = tinyLayerNormNet('decomposed', { bias });
    let loaded: Promise<[Explainer, Explainer]> | undefined;
    it.each(EVERY_METHOD.map((c) => [`${c.method} ${JSON.stringify(c.params ?? {})}`, c] as const))(`${bias ? 'with β' : 'β = 0'}: %s`, async (_, c) => {
      const [a, b] = await (loaded ??= Promise.all([Explainer.load(fused.bytes), Explainer.load(decomposed.bytes)]));
      const dims = batchDims(fused);
      const x = randomInput(dims, 17);
      const opts = { method: c.method, target: TARGETS, ...(c.params ? { params: c.params } : {}) };
      const ra = await a.explain({ data: x, dims }, opts);
      const rb = await b.explain({ data: x, dims }, opts);
      expect(relativeL2(ra.logits.data, rb.logits.data)).toBeLessThan(1e-6);
      expect(record('LayerNorm decomposed vs fused', `${c.method}${bias ? '' : ' β=0'}`, relativeL2(rb.attribution.data, ra.attribution.data))).toBeLessThan(TOLERANCE);
    });
  }
});

/**
 * Conservation (METHODS.md: bias-free layers, ε → 0): the input relevance sums to the explained
 * logit where every rule on the way conserves — the z-rules of bias-free linear layers, the gate
 * rule (all relevance to the gated signal), the proportional rules of sums, Sub and ReduceMean,
 * the quotient rule, the LayerNorm/InstanceNorm ε rule with β = 0 (the centring is linear) and the
 * uniform rule of two-signal products. The stabilizer (1e-6) leaks a little at every layer.
 * Checked with the ε rule: z⁺ also drops the relevance of every output whose window holds no
 * positive contribution (z⁺_j = 0, e.g. a window of zeros after a ReLU: 5.7 % of the logit on the
 * InstanceNorm net), which is the z⁺ rule's own property, not that of these blocks.
 */
describe('LRP conserves relevance on bias-free modern blocks', () => {
  const nets = [
    tinySqueezeExcitationNet({ bias: false }),
    ...(['silu', 'gelu-erf', 'gelu-tanh', 'hardswish'] as const).map((k) => tinyGatedActivationNet(k, { bias: false })),
    tinyLayerNormNet('fused', { bias: false }),
    tinyLayerNormNet('decomposed', { bias: false }),
    tinyInstanceNormNet({ bias: false }),
  ];
  const methods: { method: MethodName; params: MethodParams }[] = [{ method: 'lrp-epsilon', params: { epsilon: 1e-9 } as MethodParams }];
  for (const m of nets) {
    it.each(methods.map((c) => [c.method, c] as const))(`${m.name}: %s sums to the logit`, async (_, c) => {
      const ex = await Explainer.load(m.bytes);
      const dims = batchDims(m);
      const x = randomInput(dims, 23);
      const r = await ex.explain({ data: x, dims }, { method: c.method, target: TARGETS, params: c.params });
      const per = numel(dims.slice(1));
      for (let n = 0; n < N; n++)
        for (let k = 0; k < 2; k++) {
          const logit = r.logits.data[n * 3 + TARGETS[n]![k]!]!;
          const total = r.attribution.data.subarray((n * 2 + k) * per, (n * 2 + k + 1) * per).reduce((s, v) => s + v, 0);
          expect(Math.abs(total - logit), `image ${n}, class ${TARGETS[n]![k]}: ${total} vs ${logit}`).toBeLessThan(1e-4 * Math.abs(logit) + 1e-5);
        }
    });
  }

  it('attention without biases: conserved except at the softmax (AttnLRP drops its bias term) and the constant class token (it keeps its share)', async () => {
    const m = tinyAttentionNet({ bias: false });
    const s = await load(m);
    const dims = batchDims(m);
    const x = randomInput(dims, 23);
    const per = numel(dims.slice(1));
    const r = await s.ex.explain({ data: x, dims }, { method: 'lrp-epsilon', target: TARGETS, params: { epsilon: 1e-9 } as MethodParams });
    const softmax = s.graph.nodes.find((n) => n.op === 'Softmax')!;
    const concat = s.graph.nodes.find((n) => n.op === 'Concat')!;
    const total = (r: Float64Array | undefined): number => (r ?? new Float64Array(0)).reduce((a, v) => a + v, 0);
    for (let n = 0; n < N; n++) {
      const image = x.subarray(n * per, (n + 1) * per);
      const fwd = forward(s.graph, image);
      for (let k = 0; k < 2; k++) {
        const t = TARGETS[n]![k]!;
        const logit = fwd.get(s.graph.outputs[0]!.name)!.data[t]!;
        const seed = new Float64Array(3);
        seed[t] = logit;
        const trace = new Map<string, Float64Array>();
        lrpBackward(s.graph, fwd, seed, ruleEverywhere({ rule: 'epsilon', epsilon: 1e-9 }), undefined, trace);
        // Softmax's linearization s_j ≈ Σ_i x_i ∂s_j/∂x_i + b_j; the rule drops b_j, losing Σ_j b_j R_j / s_j.
        const xs = fwd.get(softmax.inputs[0]!)!, sm = fwd.get(softmax.outputs[0]!)!, R = trace.get(softmax.outputs[0]!)!;
        const len = xs.dims[xs.dims.length - 1]!;
        let lost = 0;
        for (let row = 0; row < xs.data.length / len; row++)
          for (let j = 0; j < len; j++) {
            let linear = 0;
            for (let i = 0; i < len; i++) linear += xs.data[row * len + i]! * sm.data[row * len + j]! * ((i === j ? 1 : 0) - sm.data[row * len + i]!);
            const bias = sm.data[row * len + j]! - linear;
            lost += (bias * R[row * len + j]!) / sm.data[row * len + j]!;
          }
        // The class token is a constant: the relevance of its rows of the Concat stays there.
        const token = total(trace.get(concat.outputs[0]!)) - total(trace.get(concat.inputs.find((i) => !s.graph.initializers.has(i) && trace.has(i))!));
        const got = total(Float64Array.from(r.attribution.data.subarray((n * 2 + k) * per, (n * 2 + k + 1) * per)));
        expect(Math.abs(lost), 'the softmax bias term is not negligible here').toBeGreaterThan(1e-3 * Math.abs(logit));
        expect(Math.abs(got - (logit - lost - token)), `image ${n}, class ${t}: ${got} vs ${logit} − ${lost} − ${token}`).toBeLessThan(1e-4 * Math.abs(logit) + 1e-5);
      }
    }
  });
});
