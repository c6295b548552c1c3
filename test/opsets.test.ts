/**
 * Import normalizes every opset to the IR's: the same network written in opset 9 form (attributes
 * for Clip/Pad/Slice/Squeeze/Unsqueeze, a PyTorch-style Shape→Gather→Unsqueeze→Concat→Reshape
 * flatten, a trailing Softmax) and in opset 18 form (Pad with axes, Split with num_outputs) gives
 * the same logits as onnxruntime on the original file and the same attributions as opset 17.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { floatAttr, intAttr, intsAttr, type Attr, type Graph, type Node } from '../src/ir/graph.js';
import { float32, int64 } from '../src/ir/tensor.js';
import { encodeModel } from '../src/onnx/encode.js';
import { relL2 } from './helpers/compare.js';
import { randomInput, Rng } from './reference/tinyModels.js';

type Form = 9 | 17 | 18;

function network(form: Form): Graph {
  const rng = new Rng(5);
  const inits = new Map([
    ['w', float32([4, 3, 3, 3], Array.from({ length: 108 }, () => rng.normal() * 0.3))],
    ['b', float32([4], [0.1, -0.2, 0.05, 0.3])],
    ['fc', float32([5, 4 * 4 * 4], Array.from({ length: 320 }, () => rng.normal() * 0.2))],
    ['fcb', float32([5], [0, 0.1, 0.2, -0.1, 0.3])],
    ['zero', int64([1], [0])],
    ['minus1', int64([1], [-1])],
  ]);
  const nodes: Node[] = [];
  const add = (op: string, inputs: string[], attrs: Record<string, Attr> = {}, out = `${op}_${nodes.length}`): string => {
    nodes.push({ name: `n${nodes.length}_${op}`, op, domain: '', inputs, outputs: [out], attrs });
    return out;
  };
  const c = (name: string, values: number[], f = false): string => {
    inits.set(name, f ? float32([], values) : int64([values.length], values));
    return name;
  };
  let y = add('Conv', ['input', 'w', 'b'], { kernel_shape: intsAttr([3, 3]), pads: intsAttr([1, 1, 1, 1]) });
  y = form === 9
    ? add('Clip', [y], { min: floatAttr(0), max: floatAttr(6) })
    : add('Clip', [y, c('lo', [0], true), c('hi', [6], true)]);
  if (form === 9) y = add('Pad', [y], { pads: intsAttr([0, 0, 1, 1, 0, 0, 1, 1]), mode: { type: 'string', value: 'constant' } });
  else if (form === 17) y = add('Pad', [y, c('pads', [0, 0, 1, 1, 0, 0, 1, 1])]);
  else y = add('Pad', [y, c('pads2', [1, 1, 1, 1]), '', c('padAxes', [2, 3])]);
  y = form === 9
    ? add('Slice', [y], { starts: intsAttr([1, 1]), ends: intsAttr([9, 9]), axes: intsAttr([2, 3]) })
    : add('Slice', [y, c('starts', [1, 1]), c('ends', [9, 9]), c('axes', [2, 3])]);
  if (form === 18) {
    const halves = ['half0', 'half1'];
    nodes.push({ name: 'split', op: 'Split', domain: '', inputs: [y], outputs: halves, attrs: { axis: intAttr(1), num_outputs: intAttr(2) } });
    y = add('Concat', halves, { axis: intAttr(1) });
  }
  y = form === 9 ? add('Unsqueeze', [y], { axes: intsAttr([4]) }) : add('Unsqueeze', [y, c('ax4', [4])]);
  y = add('Relu', [y]);
  y = form === 9 ? add('Squeeze', [y], { axes: intsAttr([4]) }) : add('Squeeze', [y, c('ax4b', [4])]);
  y = add('MaxPool', [y], { kernel_shape: intsAttr([2, 2]), strides: intsAttr([2, 2]) });
  // PyTorch's x.view(x.size(0), -1)
  const shape = add('Shape', [y]);
  const batch = add('Gather', [shape, 'zero'], { axis: intAttr(0) });
  const target = add('Concat', [batch, 'minus1'], { axis: intAttr(0) });
  y = add('Reshape', [y, target]);
  y = add('Gemm', [y, 'fc', 'fcb'], { transB: intAttr(1) });
  add('Softmax', [y], { axis: intAttr(1) }, 'probs');
  return {
    name: `form${form}`,
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', 3, 8, 8] }],
    outputs: [{ name: 'probs', dtype: 'float32', shape: ['N', 5] }],
    nodes,
    initializers: inits,
    values: new Map(),
  };
}

describe('opset forms import to the same graph', async () => {
  const dims = [2, 3, 8, 8];
  const x = randomInput(dims, 3);
  const reference = await (await Explainer.load(encodeModel(network(17), 'test', 17))).explain({ data: x, dims }, { method: 'guided-backprop', target: [1, 'max'] });
  for (const form of [9, 18] as const) {
    it(`opset ${form}`, async () => {
      const bytes = encodeModel(network(form), 'test', form);
      const ex = await Explainer.load(bytes);
      const r = await ex.explain({ data: x, dims }, { method: 'guided-backprop', target: [1, 'max'] });
      expect(r.targets).toEqual(reference.targets);
      expect(relL2(r.attribution.data, reference.attribution.data)).toBeLessThan(1e-6);
      // The trailing Softmax is removed: the logits before it are explained; onnxruntime's own
      // run of the file gives their softmax.
      const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
      const probs = (await s.run({ input: new ort.Tensor('float32', x, dims) })).probs!.data as Float32Array;
      for (let i = 0; i < 2; i++) {
        const row = Array.from(r.logits.data.subarray(i * 5, i * 5 + 5));
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        expect(relL2(e.map((v) => v / z), probs.subarray(i * 5, i * 5 + 5))).toBeLessThan(1e-5);
      }
    });
  }
});
