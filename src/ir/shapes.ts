/** Static shape inference for the ops Backlight supports, given concrete input shapes. */
import { UnsupportedOpError } from '../errors.js';
import { einsumShape } from './einsum.js';
import { windowAttributes } from './convGeometry.js';
import { attrInt, attrInts, attrString, type Node } from './graph.js';
import { broadcastShapes, castType, reshapeTarget, sliceParams, squeezeDims, unsqueezeDims } from './fold.js';
import { sizeOf, toNumbers, type DType, type Tensor } from './tensor.js';

export interface Known {
  shape: number[];
  dtype: DType;
}

/** Window geometry of Conv / pooling ops with explicit pads (auto_pad is resolved by `resolveAutoPad`). */
export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** ONNX order: all begins, then all ends. */
  pads: number[];
  ceil: boolean;
}

export function windowOf(node: Node, spatial: number[], kernelFromWeight?: number[]): Window {
  const r = spatial.length;
  const attrs = windowAttributes(node, r);
  const kernel = attrs.kernel ?? kernelFromWeight;
  if (!kernel) throw new UnsupportedOpError(node.name, node.op, 'kernel_shape is missing');
  const { strides, dilations } = attrs;
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let pads = attrs.pads;
  if (autoPad === 'VALID') pads = new Array<number>(2 * r).fill(0);
  else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const out = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + dilations[i]! * (kernel[i]! - 1) + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + r] = total - pads[i]!;
    }
  }
  return { kernel, strides, dilations, pads, ceil };
}

/**
 * Whether a ceil_mode window would start in the end padding. PyTorch and onnxruntime's kernels drop
 * such a window, but onnxruntime's shape inference keeps it, so a graph with static shapes around
 * it fails to load there.
 */
export function ceilWindowInEndPadding(w: Window, spatial: number[]): boolean {
  if (!w.ceil) return false;
  const r = spatial.length;
  return spatial.some((x, i) => {
    const span = x + w.pads[i]! + w.pads[i + r]! - w.dilations[i]! * (w.kernel[i]! - 1) - 1;
    const out = Math.ceil(span / w.strides[i]!) + 1;
    return (out - 1) * w.strides[i]! >= x + w.pads[i]!;
  });
}

export function windowOutput(w: Window, spatial: number[]): number[] {
  const r = spatial.length;
  return spatial.map((x, i) => {
    const span = x + w.pads[i]! + w.pads[i + r]! - w.dilations[i]! * (w.kernel[i]! - 1) - 1;
    let out = (w.ceil ? Math.ceil(span / w.strides[i]!) : Math.floor(span / w.strides[i]!)) + 1;
    // The last window must start inside the input or its begin padding (PyTorch's and onnxruntime's rule).
    if (w.ceil && (out - 1) * w.strides[i]! >= x + w.pads[i]!) out--;
    return out;
  });
}

type ConstOf = (i: number) => Tensor | undefined;

/**
 * Output types and shapes of `node`. `ins` are the input types (undefined for omitted optional
 * inputs), `constant(i)` the value of input i when it is a constant.
 */
export function inferShapes(node: Node, ins: (Known | undefined)[], constant: ConstOf): Known[] {
  const x = ins[0];
  const need = (i: number): Known => {
    const k = ins[i];
    if (!k) throw new UnsupportedOpError(node.name, node.op, `input ${i} is missing`);
    return k;
  };
  const constInts = (i: number, what: string): number[] => {
    const t = constant(i);
    if (!t) throw new UnsupportedOpError(node.name, node.op, `${what} (input ${i}) must be a constant once the input shape is known`);
    return toNumbers(t);
  };
  const same = (): Known[] => [{ shape: [...need(0).shape], dtype: need(0).dtype }];
  const rank = x?.shape.length ?? 0;
  const axisOf = (a: number): number => (a < 0 ? a + rank : a);

  switch (node.op) {
    case 'Relu': case 'LeakyRelu': case 'PRelu': case 'Clip': case 'Sigmoid': case 'HardSigmoid': case 'HardSwish':
    case 'Tanh': case 'Softmax': case 'LogSoftmax': case 'Identity': case 'Dropout': case 'BatchNormalization':
    case 'Neg': case 'Abs': case 'Exp': case 'Sqrt': case 'Erf': case 'Elu': case 'Selu': case 'Softplus':
    case 'Reciprocal': case 'Sin': case 'Cos': case 'Log': case 'Gelu': case 'Sign': case 'Floor': case 'Ceil':
    case 'InstanceNormalization': case 'Not': case 'ScatterND': case 'CumSum': case 'LRN':
      return same();
    case 'LayerNormalization': {
      const xs = need(0).shape;
      const a = axisOf(attrInt(node, 'axis', -1));
      const stats = xs.map((d, i) => (i < a ? d : 1));
      const outs: Known[] = [{ shape: [...xs], dtype: need(0).dtype }, { shape: stats, dtype: 'float32' }, { shape: stats, dtype: 'float32' }];
      return outs.slice(0, node.outputs.length);
    }
    case 'Expand':
      return [{ shape: broadcastShapes(need(0).shape, constInts(1, 'the shape'), `node '${node.name}' (Expand)`), dtype: need(0).dtype }];
    case 'Einsum': {
      const shape = einsumShape(attrString(node, 'equation', ''), ins.map((k) => k?.shape ?? []));
      if (!shape) throw new UnsupportedOpError(node.name, node.op, `equation '${attrString(node, 'equation', '')}': only explicit equations (with '->') without ellipsis or repeated indices are supported`);
      return [{ shape, dtype: need(0).dtype }];
    }
    case 'Resize': {
      const xs = need(0).shape;
      if (node.inputs[3]) return [{ shape: constInts(3, 'sizes'), dtype: need(0).dtype }];
      const sc = constInts(2, 'scales');
      return [{ shape: xs.map((d, i) => Math.floor(d * sc[i]!)), dtype: need(0).dtype }];
    }
    case 'Tile': {
      const reps = constInts(1, 'the repeats');
      return [{ shape: need(0).shape.map((d, i) => d * reps[i]!), dtype: need(0).dtype }];
    }
    case 'Gather': {
      const xs = need(0).shape;
      const a = axisOf(attrInt(node, 'axis', 0));
      return [{ shape: [...xs.slice(0, a), ...need(1).shape, ...xs.slice(a + 1)], dtype: need(0).dtype }];
    }
    case 'Cast':
      return [{ shape: [...need(0).shape], dtype: castType(node) }];
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': case 'Mod': case 'Max': case 'Min': case 'Sum': case 'Mean': {
      let s: number[] = [];
      for (const k of ins) if (k) s = broadcastShapes(s, k.shape, `node '${node.name}' (${node.op})`);
      return [{ shape: s, dtype: need(0).dtype }];
    }
    case 'Equal': case 'Greater': case 'Less': case 'GreaterOrEqual': case 'LessOrEqual': case 'And': case 'Or': {
      return [{ shape: broadcastShapes(need(0).shape, need(1).shape), dtype: 'bool' }];
    }
    case 'Where': {
      const s = broadcastShapes(broadcastShapes(need(0).shape, need(1).shape), need(2).shape);
      return [{ shape: s, dtype: need(1).dtype }];
    }
    case 'Conv': {
      const xs = need(0).shape, ws = need(1).shape;
      const w = windowOf(node, xs.slice(2), ws.slice(2));
      const group = attrInt(node, 'group', 1);
      if (xs[1] !== ws[1]! * group) {
        throw new UnsupportedOpError(node.name, node.op, `input has ${xs[1]} channels but the weight [${ws}] with group=${group} expects ${ws[1]! * group}`);
      }
      return [{ shape: [xs[0]!, ws[0]!, ...windowOutput(w, xs.slice(2))], dtype: need(0).dtype }];
    }
    case 'MaxPool': case 'AveragePool': case 'LpPool': {
      const xs = need(0).shape;
      const w = windowOf(node, xs.slice(2));
      if (ceilWindowInEndPadding(w, xs.slice(2))) {
        throw new UnsupportedOpError(node.name, node.op, `with ceil_mode=1 and pads [${w.pads}] on input [${xs}] the last window starts in the end padding; onnxruntime's shape inference disagrees with its kernels there, so this geometry cannot run (re-export with ceil_mode=0 or smaller end pads)`);
      }
      const out: Known = { shape: [xs[0]!, xs[1]!, ...windowOutput(w, xs.slice(2))], dtype: need(0).dtype };
      return node.outputs.length > 1 ? [out, { shape: out.shape, dtype: 'int64' }] : [out];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': {
      const xs = need(0).shape;
      return [{ shape: [xs[0]!, xs[1]!, ...xs.slice(2).map(() => 1)], dtype: need(0).dtype }];
    }
    case 'Gemm': {
      const a = need(0).shape, b = need(1).shape;
      const ta = attrInt(node, 'transA', 0), tb = attrInt(node, 'transB', 0);
      const [m, ka] = ta ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
      const [kb, n] = tb ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
      if (ka !== kb) throw new UnsupportedOpError(node.name, node.op, `inner dimensions differ: A [${a}] and B [${b}] (transA=${ta}, transB=${tb})`);
      return [{ shape: [m, n], dtype: need(0).dtype }];
    }
    case 'MatMul': {
      const a = need(0).shape, b = need(1).shape;
      const a2 = a.length === 1 ? [1, a[0]!] : a;
      const b2 = b.length === 1 ? [b[0]!, 1] : b;
      if (a2[a2.length - 1] !== b2[b2.length - 2]) throw new UnsupportedOpError(node.name, node.op, `inner dimensions differ: [${a}] × [${b}]`);
      const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
      const shape = [...batch, a2[a2.length - 2]!, b2[b2.length - 1]!];
      if (a.length === 1) shape.splice(shape.length - 2, 1);
      if (b.length === 1) shape.splice(shape.length - 1, 1);
      return [{ shape, dtype: need(0).dtype }];
    }
    case 'Flatten': {
      const xs = need(0).shape;
      const a = axisOf(attrInt(node, 'axis', 1));
      return [{ shape: [sizeOf(xs.slice(0, a)), sizeOf(xs.slice(a))], dtype: need(0).dtype }];
    }
    case 'Reshape':
      return [{ shape: reshapeTarget(node, need(0).shape, constInts(1, 'the target shape')), dtype: need(0).dtype }];
    case 'Transpose': {
      const xs = need(0).shape;
      const perm = attrInts(node, 'perm') ?? xs.map((_, i) => xs.length - 1 - i);
      return [{ shape: perm.map((p) => xs[p]!), dtype: need(0).dtype }];
    }
    case 'Squeeze':
      return [{ shape: squeezeDims(need(0).shape, node.inputs[1] ? constInts(1, 'axes') : undefined), dtype: need(0).dtype }];
    case 'Unsqueeze':
      return [{ shape: unsqueezeDims(need(0).shape, constInts(1, 'axes')), dtype: need(0).dtype }];
    case 'Concat': {
      const a = axisOf(attrInt(node, 'axis', 0));
      const shape = [...need(0).shape];
      shape[a] = ins.reduce((s, k) => s + (k ? k.shape[a]! : 0), 0);
      return [{ shape, dtype: need(0).dtype }];
    }
    case 'Split': {
      const xs = need(0).shape;
      const a = axisOf(attrInt(node, 'axis', 0));
      const n = node.outputs.length;
      // Without sizes: equal chunks of ⌈d/n⌉, the last one smaller (opset 18's num_outputs rule).
      const chunk = Math.ceil(xs[a]! / n);
      const sizes = node.inputs[1]
        ? constInts(1, 'split sizes')
        : Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, xs[a]! - i * chunk)));
      return sizes.map((s) => ({ shape: xs.map((d, i) => (i === a ? s : d)), dtype: need(0).dtype }));
    }
    case 'Slice': {
      const xs = need(0).shape;
      const ax = node.inputs[3] ? constInts(3, 'axes') : undefined;
      const st = node.inputs[4] ? constInts(4, 'steps') : undefined;
      const p = sliceParams(xs, constInts(1, 'starts'), constInts(2, 'ends'), ax, st);
      return [{ shape: p.map((q) => q.size), dtype: need(0).dtype }];
    }
    case 'Pad': {
      const xs = need(0).shape;
      const pads = constInts(1, 'pads');
      return [{ shape: xs.map((d, i) => d + pads[i]! + pads[i + xs.length]!), dtype: need(0).dtype }];
    }
    case 'Shape': {
      const r = need(0).shape.length;
      const start = axisOf(attrInt(node, 'start', 0));
      const endRaw = attrInt(node, 'end');
      const end = endRaw === undefined ? r : Math.min(r, axisOf(endRaw));
      return [{ shape: [Math.max(0, end - start)], dtype: 'int64' }];
    }
    case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceL2': case 'ReduceSumSquare': {
      const xs = need(0).shape;
      const axes = node.inputs[1] ? constInts(1, 'axes') : attrInts(node, 'axes');
      if ((!axes || axes.length === 0) && attrInt(node, 'noop_with_empty_axes', 0) === 1) return [{ shape: [...xs], dtype: need(0).dtype }];
      const ax = new Set((axes && axes.length ? axes : xs.map((_, i) => i)).map(axisOf));
      const keep = attrInt(node, 'keepdims', 1) === 1;
      const shape: number[] = [];
      xs.forEach((d, i) => {
        if (!ax.has(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ shape, dtype: need(0).dtype }];
    }
    default:
      throw new UnsupportedOpError(node.name, node.op, 'this op is not supported');
  }
}
