/**
 * Constant folding: evaluates ops whose inputs are all known. Exporters compute shapes at run time
 * (Shape → Gather → Unsqueeze → Concat → Reshape, PyTorch's flatten and option-A shortcuts); once
 * the input shape is fixed these subgraphs are constants, and folding them leaves a static graph.
 */
import { attrFloat, attrInt, attrInts, attrString, type Node } from './graph.js';
import { fromNumbers, sizeOf, toNumbers, type DType, type Tensor, type TensorData } from './tensor.js';

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

export function broadcastShapes(a: readonly number[], b: readonly number[], where = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`${where}: shapes [${a}] and [${b}] do not broadcast`);
    out[i] = x === 1 ? y : x;
  }
  return out;
}

/** For each element of `outDims`, the flat index of the element of `inDims` it broadcasts from. */
function broadcastMap(outDims: readonly number[], inDims: readonly number[]): Int32Array {
  const n = sizeOf(outDims);
  const map = new Int32Array(n);
  const r = outDims.length;
  const inStr = stridesOf(inDims);
  const eff = outDims.map((_, i) => {
    const j = i - (r - inDims.length);
    return j >= 0 && inDims[j] !== 1 ? inStr[j]! : 0;
  });
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let i = 0; i < r; i++) off += idx[i]! * eff[i]!;
    map[k] = off;
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i]! < outDims[i]!) break;
      idx[i] = 0;
    }
  }
  return map;
}

function gather(t: Tensor, dims: number[], map: ArrayLike<number>): Tensor {
  const Ctor = t.data.constructor as new (n: number) => TensorData;
  const out = new Ctor(map.length);
  for (let i = 0; i < map.length; i++) (out as unknown as unknown[])[i] = (t.data as unknown as unknown[])[map[i]!];
  return { dtype: t.dtype, dims, data: out };
}

const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

function elementwise(node: Node, ins: Tensor[], f: (...v: number[]) => number, outType?: DType): Tensor {
  let dims: number[] = [];
  for (const t of ins) dims = broadcastShapes(dims, t.dims, `node '${node.name}' (${node.op})`);
  const vals = ins.map(toNumbers);
  const maps = ins.map((t) => broadcastMap(dims, t.dims));
  const n = sizeOf(dims);
  const out = new Array<number>(n);
  const args = new Array<number>(ins.length);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < ins.length; j++) args[j] = vals[j]![maps[j]![k]!]!;
    out[k] = f(...args);
  }
  const dtype = outType ?? ins[0]!.dtype;
  const intLike = dtype !== 'float32' && dtype !== 'float64';
  return fromNumbers(dtype, dims, intLike && dtype !== 'bool' ? out.map(Math.trunc) : out);
}

const CAST_TYPES: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };

export function castType(node: Node): DType {
  const to = attrInt(node, 'to', 1);
  const d = CAST_TYPES[to];
  if (!d) throw new Error(`node '${node.name}' (Cast): cast to type ${to} is not supported`);
  return d;
}

/** Resolves Slice parameters to per-axis (start, end, step) clamped as the ONNX spec says. */
export function sliceParams(dims: readonly number[], starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined) {
  const r = dims.length;
  const out = dims.map((d) => ({ start: 0, end: d, step: 1, size: d }));
  const ax = axes ?? starts.map((_, i) => i);
  ax.forEach((a0, i) => {
    const a = normAxis(a0, r);
    const d = dims[a]!;
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new Error('Slice step 0');
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const size = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
    out[a] = { start: s, end: e, step, size };
  });
  return out;
}

export function reshapeTarget(node: Node, inDims: readonly number[], shape: number[]): number[] {
  const allowzero = attrInt(node, 'allowzero', 0);
  const out = shape.map((s, i) => (s === 0 && !allowzero ? inDims[i]! : s));
  const known = out.reduce((a, s) => (s === -1 ? a : a * s), 1);
  const total = sizeOf(inDims);
  const neg = out.indexOf(-1);
  if (neg >= 0) out[neg] = known === 0 ? 0 : total / known;
  if (sizeOf(out) !== total || out.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`node '${node.name}' (Reshape): cannot reshape [${inDims}] to [${shape}]`);
  }
  return out;
}

export function unsqueezeDims(dims: readonly number[], axes: number[]): number[] {
  const r = dims.length + axes.length;
  const ax = new Set(axes.map((a) => normAxis(a, r)));
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < r; i++) out.push(ax.has(i) ? 1 : dims[j++]!);
  return out;
}

export function squeezeDims(dims: readonly number[], axes: number[] | undefined): number[] {
  if (!axes) return dims.filter((d) => d !== 1);
  const ax = new Set(axes.map((a) => normAxis(a, dims.length)));
  return dims.filter((_, i) => !ax.has(i));
}

/** Shape-only ops: reinterpret the same elements under new dims. */
function view(t: Tensor, dims: number[]): Tensor {
  return { dtype: t.dtype, dims, data: t.data };
}

/**
 * Evaluates `node` on constant inputs. Returns undefined for ops that are not folded (convolutions
 * and the like stay in the graph even when constant: folding them here would be slow and gain nothing).
 */
export function foldNode(node: Node, ins: (Tensor | undefined)[]): Tensor[] | undefined {
  const x = ins[0];
  const c = (i: number): number[] | undefined => (ins[i] ? toNumbers(ins[i]!) : undefined);
  switch (node.op) {
    case 'Identity':
      return x ? [x] : undefined;
    case 'Cast': return x ? [fromNumbers(castType(node), x.dims, toNumbers(x))] : undefined;
    case 'Reshape': return x && ins[1] ? [view(x, reshapeTarget(node, x.dims, c(1)!))] : undefined;
    case 'Flatten': {
      if (!x) return undefined;
      const a = normAxis(attrInt(node, 'axis', 1), x.dims.length);
      return [view(x, [sizeOf(x.dims.slice(0, a)), sizeOf(x.dims.slice(a))])];
    }
    case 'Unsqueeze': return x && ins[1] ? [view(x, unsqueezeDims(x.dims, c(1)!))] : undefined;
    case 'Squeeze': return x ? [view(x, squeezeDims(x.dims, c(1)))] : undefined;
    case 'Gather': {
      if (!x || !ins[1]) return undefined;
      const axis = normAxis(attrInt(node, 'axis', 0), x.dims.length);
      const idx = toNumbers(ins[1]).map((i) => (i < 0 ? i + x.dims[axis]! : i));
      const outer = sizeOf(x.dims.slice(0, axis));
      const inner = sizeOf(x.dims.slice(axis + 1));
      const map: number[] = [];
      for (let o = 0; o < outer; o++) for (const i of idx) for (let k = 0; k < inner; k++) map.push((o * x.dims[axis]! + i) * inner + k);
      return [gather(x, [...x.dims.slice(0, axis), ...ins[1].dims, ...x.dims.slice(axis + 1)], map)];
    }
    case 'Concat': {
      if (ins.some((t) => !t)) return undefined;
      const ts = ins as Tensor[];
      const axis = normAxis(attrInt(node, 'axis', 0), ts[0]!.dims.length);
      const dims = [...ts[0]!.dims];
      dims[axis] = ts.reduce((s, t) => s + t.dims[axis]!, 0);
      const outer = sizeOf(dims.slice(0, axis));
      const vals: number[] = [];
      const parts = ts.map(toNumbers);
      for (let o = 0; o < outer; o++) {
        ts.forEach((t, j) => {
          const chunk = sizeOf(t.dims.slice(axis));
          for (let k = 0; k < chunk; k++) vals.push(parts[j]![o * chunk + k]!);
        });
      }
      return [fromNumbers(ts[0]!.dtype, dims, vals)];
    }
    case 'Slice': {
      if (!x || !ins[1] || !ins[2]) return undefined;
      const p = sliceParams(x.dims, c(1)!, c(2)!, c(3), c(4));
      const dims = p.map((q) => q.size);
      const str = stridesOf(x.dims);
      const n = sizeOf(dims);
      const map = new Int32Array(n);
      const idx = new Array<number>(dims.length).fill(0);
      for (let k = 0; k < n; k++) {
        let off = 0;
        for (let i = 0; i < dims.length; i++) off += (p[i]!.start + idx[i]! * p[i]!.step) * str[i]!;
        map[k] = off;
        for (let i = dims.length - 1; i >= 0; i--) {
          if (++idx[i]! < dims[i]!) break;
          idx[i] = 0;
        }
      }
      return [gather(x, dims, map)];
    }
    case 'Transpose': {
      if (!x) return undefined;
      const r = x.dims.length;
      const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => r - 1 - i);
      const dims = perm.map((p) => x.dims[p]!);
      const inStr = stridesOf(x.dims);
      const n = sizeOf(dims);
      const map = new Int32Array(n);
      const idx = new Array<number>(r).fill(0);
      for (let k = 0; k < n; k++) {
        let off = 0;
        for (let i = 0; i < r; i++) off += idx[i]! * inStr[perm[i]!]!;
        map[k] = off;
        for (let i = r - 1; i >= 0; i--) {
          if (++idx[i]! < dims[i]!) break;
          idx[i] = 0;
        }
      }
      return [gather(x, dims, map)];
    }
    case 'Expand': {
      if (!x || !ins[1]) return undefined;
      const dims = broadcastShapes(x.dims, c(1)!, `node '${node.name}' (Expand)`);
      return [gather(x, dims, broadcastMap(dims, x.dims))];
    }
    case 'ConstantOfShape': {
      if (!x) return undefined;
      const dims = toNumbers(x);
      const a = node.attrs.value;
      const v = a?.type === 'tensor' ? a.value : fromNumbers('float32', [1], [0]);
      return [fromNumbers(v.dtype, dims, new Array<number>(sizeOf(dims)).fill(toNumbers(v)[0]!))];
    }
    case 'Range': {
      if (!x || !ins[1] || !ins[2]) return undefined;
      const [s, l, d] = [c(0)![0]!, c(1)![0]!, c(2)![0]!];
      const n = Math.max(Math.ceil((l - s) / d), 0);
      return [fromNumbers(x.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
    }
    case 'Add': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => a! + b!)] : undefined;
    case 'Sub': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => a! - b!)] : undefined;
    case 'Mul': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => a! * b!)] : undefined;
    case 'Div': {
      if (!all(ins)) return undefined;
      const intDiv = ins[0]!.dtype !== 'float32' && ins[0]!.dtype !== 'float64';
      return [elementwise(node, ins as Tensor[], intDiv ? (a, b) => Math.trunc(a! / b!) : (a, b) => a! / b!)];
    }
    case 'Neg': return x ? [elementwise(node, [x], (a) => -a!)] : undefined;
    case 'Sqrt': return x ? [elementwise(node, [x], (a) => Math.sqrt(a!))] : undefined;
    case 'Reciprocal': return x ? [elementwise(node, [x], (a) => 1 / a!)] : undefined;
    case 'Floor': return x ? [elementwise(node, [x], (a) => Math.floor(a!))] : undefined;
    case 'Sin': return x ? [elementwise(node, [x], (a) => Math.sin(a!))] : undefined;
    case 'Cos': return x ? [elementwise(node, [x], (a) => Math.cos(a!))] : undefined;
    case 'Exp': return x ? [elementwise(node, [x], (a) => Math.exp(a!))] : undefined;
    case 'Log': return x ? [elementwise(node, [x], (a) => Math.log(a!))] : undefined;
    case 'Abs': return x ? [elementwise(node, [x], (a) => Math.abs(a!))] : undefined;
    case 'Sign': return x ? [elementwise(node, [x], (a) => Math.sign(a!))] : undefined;
    case 'Pow': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => Math.pow(a!, b!))] : undefined;
    case 'Mod': {
      if (!all(ins)) return undefined;
      // fmod=0 (integers): the result takes the divisor's sign, as Python's %.
      const fmod = attrInt(node, 'fmod', 0) === 1;
      return [elementwise(node, ins as Tensor[], fmod ? (a, b) => a! % b! : (a, b) => a! - b! * Math.floor(a! / b!))];
    }
    case 'CumSum': {
      if (!x || !ins[1]) return undefined;
      const axis = normAxis(c(1)![0]!, x.dims.length);
      const exclusive = attrInt(node, 'exclusive', 0) === 1;
      const reverse = attrInt(node, 'reverse', 0) === 1;
      const vals = toNumbers(x);
      const out = new Array<number>(vals.length).fill(0);
      const inner = sizeOf(x.dims.slice(axis + 1));
      const len = x.dims[axis]!;
      const outer = sizeOf(x.dims.slice(0, axis));
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          let acc = 0;
          for (let j = 0; j < len; j++) {
            const i = reverse ? len - 1 - j : j;
            const at = (o * len + i) * inner + k;
            if (exclusive) {
              out[at] = acc;
              acc += vals[at]!;
            } else {
              acc += vals[at]!;
              out[at] = acc;
            }
          }
        }
      return [fromNumbers(x.dtype, [...x.dims], out)];
    }
    case 'EyeLike': {
      if (!x || x.dims.length !== 2) return undefined;
      const k = attrInt(node, 'k', 0);
      const [r, cols] = x.dims as [number, number];
      const out = new Array<number>(r * cols).fill(0);
      for (let i = 0; i < r; i++) if (i + k >= 0 && i + k < cols) out[i * cols + i + k] = 1;
      const dt = attrInt(node, 'dtype');
      return [fromNumbers(dt === 7 ? 'int64' : dt === 6 ? 'int32' : dt === undefined ? x.dtype : 'float32', [...x.dims], out)];
    }
    case 'ScatterND': {
      if (!x || !ins[1] || !ins[2] || attrString(node, 'reduction', 'none') !== 'none') return undefined;
      const idx = toNumbers(ins[1]);
      const upd = toNumbers(ins[2]);
      const q = ins[1].dims[ins[1].dims.length - 1]!;
      const slice = sizeOf(x.dims.slice(q));
      const str = stridesOf(x.dims);
      const vals = toNumbers(x);
      for (let u = 0; u < idx.length / q; u++) {
        let off = 0;
        for (let j = 0; j < q; j++) {
          const i = idx[u * q + j]!;
          off += (i < 0 ? i + x.dims[j]! : i) * str[j]!;
        }
        for (let e = 0; e < slice; e++) vals[off + e] = upd[u * slice + e]!;
      }
      return [fromNumbers(x.dtype, [...x.dims], vals)];
    }
    case 'Tile': {
      if (!x || !ins[1]) return undefined;
      const reps = c(1)!;
      const dims = x.dims.map((d, i) => d * reps[i]!);
      const n = sizeOf(dims);
      const inStr = stridesOf(x.dims);
      const map = new Int32Array(n);
      const idx = new Array<number>(dims.length).fill(0);
      for (let k = 0; k < n; k++) {
        let off = 0;
        for (let i = 0; i < dims.length; i++) off += (idx[i]! % x.dims[i]!) * inStr[i]!;
        map[k] = off;
        for (let i = dims.length - 1; i >= 0; i--) {
          if (++idx[i]! < dims[i]!) break;
          idx[i] = 0;
        }
      }
      return [gather(x, dims, map)];
    }
    case 'Ceil': return x ? [elementwise(node, [x], (a) => Math.ceil(a!))] : undefined;
    case 'Equal': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a === b ? 1 : 0), 'bool')] : undefined;
    case 'Greater': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a! > b! ? 1 : 0), 'bool')] : undefined;
    case 'Less': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a! < b! ? 1 : 0), 'bool')] : undefined;
    case 'GreaterOrEqual': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a! >= b! ? 1 : 0), 'bool')] : undefined;
    case 'LessOrEqual': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a! <= b! ? 1 : 0), 'bool')] : undefined;
    case 'And': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a && b ? 1 : 0), 'bool')] : undefined;
    case 'Or': return all(ins) ? [elementwise(node, ins as Tensor[], (a, b) => (a || b ? 1 : 0), 'bool')] : undefined;
    case 'Not': return x ? [elementwise(node, [x], (a) => (a ? 0 : 1), 'bool')] : undefined;
    case 'Where': return all(ins) ? [elementwise(node, ins as Tensor[], (cnd, a, b) => (cnd ? a! : b!), ins[1]!.dtype)] : undefined;
    case 'Max': return all(ins) ? [elementwise(node, ins as Tensor[], (...v) => Math.max(...v))] : undefined;
    case 'Min': return all(ins) ? [elementwise(node, ins as Tensor[], (...v) => Math.min(...v))] : undefined;
    case 'DequantizeLinear': {
      if (!x || !ins[1]) return undefined;
      const axis = normAxis(attrInt(node, 'axis', 1), x.dims.length);
      const per = ins[1].dims.length === 1 && ins[1].dims[0]! > 1;
      const sh = per ? x.dims.map((d, i) => (i === axis ? d : 1)) : [];
      const scale = view(ins[1], per ? sh : []);
      const zp = ins[2] ? view(ins[2], per ? sh : []) : fromNumbers('float32', [], [0]);
      return [elementwise(node, [x, scale, zp], (q, s, z) => (q! - z!) * s!, 'float32')];
    }
    case 'LeakyRelu': {
      const alpha = attrFloat(node, 'alpha', 0.01);
      return x ? [elementwise(node, [x], (a) => (a! >= 0 ? a! : alpha * a!))] : undefined;
    }
    default:
      return undefined;
  }
}

function all(ins: (Tensor | undefined)[]): boolean {
  return ins.every((t) => t !== undefined);
}
