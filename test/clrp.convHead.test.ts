/**
 * CLRP2 (and contrastive Excitation Backprop, which uses its dual) where the logits come from a
 * conv head, as SqueezeNet's: Conv 1×1 (one channel per class) → ReLU → GlobalAveragePool →
 * Flatten. The dual negates the target's filter of that 1×1 conv; the relevance reaches it
 * through the ReLU and the pooling over the original network's activations, and only the conv's
 * own redistribution sees the negated filter (the choice documented in src/compile/contrastive.ts).
 *
 * The reference is the eager Float64 LRP of test/reference/eagerLrp.ts, with that dual built here:
 * the original forward values, the head conv's output recomputed with the negated filter.
 */
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../src/canonicalize/index.js';
import { Explainer } from '../src/index.js';
import { intsAttr, type Graph } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import type { MethodName, MethodParams } from '../src/methods/methods.js';
import { decodeModel } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';
import { forward, numel, relativeL2 } from './reference/eager.js';
import { contrast, lrpBackward, methodRules, type Box, type EagerLrpMethod, type EagerLrpParams } from './reference/eagerLrp.js';
import { TinyGraphBuilder, randomInput } from './reference/tinyModels.js';

const DIMS = [1, 3, 8, 8];
const CLASSES = 5;
const BOX: Box = { low: [-2, -2.1, -2.2], high: [2.5, 2.6, 2.7] };

/** Conv 3×3 → ReLU → Conv 1×1 (5 classes) → ReLU → GlobalAveragePool → Flatten. */
function squeezeHead(): Uint8Array {
  const b = new TinyGraphBuilder('squeeze_head', DIMS, 211);
  const features = b.op('Relu', [b.conv(b.input, 3, 6)]);
  const classes = b.conv(features, 6, CLASSES, { kernel: [1, 1], pads: [0, 0, 0, 0] });
  const logits = b.op('Flatten', [b.op('GlobalAveragePool', [b.op('Relu', [classes])])], {});
  return encodeModel(b.graphWithOutput(logits, [1, CLASSES]), 'backlight-tests');
}

/** CLRP2's map of `target` by the eager reference, the dual as described in the header. */
function reference(graph: Graph, x: Float32Array, target: number, method: EagerLrpMethod, params: EagerLrpParams): Float64Array {
  const { choose } = methodRules(method, params);
  const fwd = forward(graph, x);
  const logits = fwd.get(graph.outputs[0]!.name)!;
  const seed = new Float64Array(CLASSES);
  seed[target] = logits.data[target]!;
  const R = lrpBackward(graph, fwd, seed, choose);

  const head = graph.nodes.filter((n) => n.op === 'Conv').at(-1)!;
  const w = graph.initializers.get(head.inputs[1]!)!;
  const values = Array.from(w.data as Float32Array);
  const per = numel(w.dims.slice(1));
  for (let i = target * per; i < (target + 1) * per; i++) values[i] = -values[i]!;
  const initializers = new Map(graph.initializers).set(head.inputs[1]!, float32([...w.dims], values));
  const dual: Graph = { ...graph, initializers };
  const headInput = fwd.get(head.inputs[0]!)!;
  const alone: Graph = {
    name: 'negated-head',
    inputs: [{ name: head.inputs[0]!, dtype: 'float32', shape: headInput.dims }],
    outputs: [{ name: head.outputs[0]!, dtype: 'float32', shape: [] }],
    nodes: [head],
    initializers,
    values: new Map(),
  };
  const own = forward(alone, headInput.data);
  // The reference reads weights from the forward values too.
  const dualFwd = new Map(fwd).set(head.outputs[0]!, own.get(head.outputs[0]!)!).set(head.inputs[1]!, own.get(head.inputs[1]!)!);
  const Rdual = lrpBackward(dual, dualFwd, seed, choose);
  return contrast(R, Rdual, params.normalize ?? false);
}

describe('CLRP2 with a conv head (Conv 1×1 → ReLU → GlobalAveragePool → Flatten)', async () => {
  const bytes = squeezeHead();
  const ex = await Explainer.load(bytes);
  const graph = canonicalize(decodeModel(bytes).graph, DIMS).graph;
  const x = randomInput(DIMS, 5);
  const logits = forward(graph, x).get(graph.outputs[0]!.name)!.data;
  // The two largest logits (both positive: the head ends in a ReLU and an average).
  const targets = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]!).slice(0, 2);

  const cases: { label: string; method: EagerLrpMethod; params: EagerLrpParams }[] = [
    { label: 'clrp2 (gu2018)', method: 'clrp2', params: { box: BOX } },
    { label: 'clrp2 normalized', method: 'clrp2', params: { box: BOX, normalize: true } },
    { label: 'clrp2 ε everywhere', method: 'clrp2', params: { composite: { conv: { rule: 'epsilon', epsilon: 1e-6 }, dense: { rule: 'epsilon', epsilon: 1e-6 } } } },
    { label: 'contrastive-excitation', method: 'contrastive-excitation', params: {} },
  ];
  for (const c of cases) {
    it(`${c.label} equals the eager reference`, async () => {
      expect(logits[targets[1]!]!).toBeGreaterThan(0);
      const r = await ex.explain({ data: x, dims: DIMS }, { method: c.method as MethodName, target: [targets], params: c.params as MethodParams, reductions: [] });
      const per = numel(DIMS.slice(1));
      for (const [k, t] of targets.entries()) {
        const want = reference(graph, x, t, c.method, c.params);
        expect(want.some((v) => v > 1e-6), 'the reference map is not trivially zero').toBe(true);
        expect(relativeL2(r.attribution.data.subarray(k * per, (k + 1) * per), want), `target ${t}`).toBeLessThan(1e-4);
      }
    });
  }

  it('the dual differs from the map itself (the negated filter is used)', async () => {
    const lrp = await ex.explain({ data: x, dims: DIMS }, { method: 'lrp', target: targets[0]!, params: { box: BOX }, reductions: [] });
    const clrp = await ex.explain({ data: x, dims: DIMS }, { method: 'clrp2', target: targets[0]!, params: { box: BOX }, reductions: [] });
    const positive = Float64Array.from(lrp.attribution.data, (v) => Math.max(0, v));
    expect(relativeL2(clrp.attribution.data, positive)).toBeGreaterThan(1e-3);
  });

  it('refuses a head whose layer does not have one channel per class', async () => {
    // Conv with 2 channels on a 2×2 map, flattened to 8 logits: channels are not the classes.
    const b = new TinyGraphBuilder('flat_conv_head', [1, 1, 4, 4], 5);
    const conv = b.conv(b.op('MaxPool', [b.input], { kernel_shape: intsAttr([2, 2]), strides: intsAttr([2, 2]) }), 1, 2);
    const logits = b.op('Flatten', [b.op('Relu', [conv])]);
    const bad = await Explainer.load(encodeModel(b.graphWithOutput(logits, [1, 8]), 'backlight-tests'));
    await expect(bad.explain({ data: randomInput([1, 1, 4, 4], 3), dims: [1, 1, 4, 4] }, { method: 'clrp2', target: 0, params: { box: { low: [-3], high: [3] } } })).rejects.toThrow(/2 output channels for 8 classes/);
  });
});
