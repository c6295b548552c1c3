/**
 * Fixes the input shape, folds every subgraph that becomes constant (shape computations written by
 * exporters), resolves auto_pad to explicit pads, and infers a static shape for every tensor.
 */
import { BacklightError, UnsupportedOpError } from '../errors.js';
import { cloneGraph, intsAttr, removeDeadNodes, topoSort, type Graph, type Node } from '../ir/graph.js';
import { foldNode } from '../ir/fold.js';
import { inferShapes, windowOf, type Known, type Window } from '../ir/shapes.js';
import { checkBatchNormChannels, checkWindowGeometry } from './checkShapes.js';
import { int64, toNumbers, shapeToString, type Tensor } from '../ir/tensor.js';

export function specialize(model: Graph, inputShape: readonly number[]): Graph {
  const g = cloneGraph(model);
  const input = g.inputs[0]!;
  if (input.dtype !== 'float32') {
    throw new BacklightError(`the model input '${input.name}' has type ${input.dtype}; Backlight explains float32 image inputs`);
  }
  if (input.shape.length !== inputShape.length || input.shape.some((d, i) => typeof d === 'number' && d !== inputShape[i])) {
    throw new BacklightError(`wrong input shape ${shapeToString(inputShape)}: the model input '${input.name}' expects ${shapeToString(input.shape)}`);
  }
  input.shape = [...inputShape];
  topoSort(g);
  g.values = new Map([[input.name, { name: input.name, dtype: 'float32', shape: [...inputShape] }]]);

  const kept: Node[] = [];
  for (const node of g.nodes) {
    expandPadAxes(node, g, g.values.get(node.inputs[0] ?? '')?.shape.length ?? 0);
    const consts = node.inputs.map((n) => (n ? g.initializers.get(n) : undefined));
    const known = node.inputs.map((n): Known | undefined => {
      if (!n) return undefined;
      const c = g.initializers.get(n);
      if (c) return { shape: c.dims, dtype: c.dtype };
      const v = g.values.get(n);
      if (!v) throw new UnsupportedOpError(node.name, node.op, `input '${n}' is produced by no node and is no initializer`);
      return { shape: v.shape as number[], dtype: v.dtype };
    });

    if (node.op === 'Shape' && known[0]) {
      const s = inferShapes(node, known, () => undefined)[0]!;
      const start = startOf(node, known[0].shape.length);
      g.initializers.set(node.outputs[0]!, int64(s.shape, known[0].shape.slice(start, start + s.shape[0]!)));
      continue;
    }
    if (node.op === 'Size' && known[0]) {
      g.initializers.set(node.outputs[0]!, int64([], [known[0].shape.reduce((a, b) => a * b, 1)]));
      continue;
    }
    const allConst = node.inputs.every((n, i) => !n || consts[i] !== undefined);
    if (allConst) {
      const folded = foldNode(node, consts);
      if (folded) {
        node.outputs.forEach((o, i) => o && g.initializers.set(o, folded[i]!));
        continue;
      }
    }
    let window: Window | undefined;
    if (['Conv', 'MaxPool', 'AveragePool'].includes(node.op) && known[0]) {
      const weight = node.op === 'Conv' ? known[1]?.shape : undefined;
      window = windowOf(node, known[0].shape.slice(2), weight?.slice(2));
      checkWindowGeometry(node, known[0].shape, window, weight);
    }
    if (node.op === 'BatchNormalization' && known[0]) checkBatchNormChannels(node, known[0].shape, (i) => known[i]?.shape);
    const outs = inferShapes(node, known, (i) => consts[i]);
    if (window) {
      node.attrs.pads = intsAttr(window.pads);
      delete node.attrs.auto_pad;
    }
    node.outputs.forEach((o, i) => {
      if (o && outs[i]) g.values.set(o, { name: o, dtype: outs[i]!.dtype, shape: outs[i]!.shape });
    });
    kept.push(node);
  }
  g.nodes = kept;
  for (const out of g.outputs) {
    const v = g.values.get(out.name);
    if (!v) throw new BacklightError(`the model output '${out.name}' does not depend on the input`);
    out.shape = [...v.shape];
    out.dtype = v.dtype;
  }
  removeDeadNodes(g);
  return g;
}

function startOf(node: Node, rank: number): number {
  const a = node.attrs.start;
  const s = a && a.type === 'int' ? a.value : 0;
  return s < 0 ? s + rank : s;
}

/** Opset-18 Pad with an `axes` input, rewritten to pads over every axis. */
function expandPadAxes(node: Node, g: Graph, rank: number): void {
  const a = node.attrs['__pad_axes'];
  if (node.op !== 'Pad' || !a || a.type !== 'ints') return;
  delete node.attrs['__pad_axes'];
  const given = toNumbers(g.initializers.get(node.inputs[1]!) as Tensor);
  const pads = new Array<number>(2 * rank).fill(0);
  a.value.forEach((ax0, i) => {
    const ax = ax0 < 0 ? ax0 + rank : ax0;
    pads[ax] = given[i]!;
    pads[ax + rank] = given[i + a.value.length]!;
  });
  const name = `${node.name}__pads_all`;
  g.initializers.set(name, int64([pads.length], pads));
  node.inputs[1] = name;
}
