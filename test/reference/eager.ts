/**
 * Independent eager reference for tests: runs an IR graph (ONNX opset-17 ops, constants in
 * `graph.initializers`) forward and backward with plain loops in Float64.
 *
 * Written for clarity, not speed, and on purpose sharing no code with src/rules or src/compile: the
 * compiled ONNX graphs are checked against it. Every vector–Jacobian product is written directly
 * (a convolution's input gradient is a scatter loop, a broadcast's is a sum over the broadcast axes).
 *
 * The three backprop saliency methods differ only at rectifiers (Nie et al. 2018, Eq. 1–2), with R the
 * incoming signal and x the rectifier's input:
 *   gradient          R · f'(x)                         (the true derivative)
 *   deconvnet         max(0, R)                         (backward mask only)
 *   guided-backprop   max(0, R) · f'(x)                 (both masks)
 * Rectifiers are Relu, LeakyRelu, PRelu and Clip with min == 0 (ReLU6). Every other op, Sigmoid, Tanh,
 * HardSigmoid, HardSwish and Clip with min != 0 included, uses its true derivative in every method,
 * and MaxPool routes the signal to its forward winner (the first maximum in row-major window order);
 * ReduceMax and ReduceMin share it evenly among tied winners (as PyTorch's amax/amin). Normalizations
 * (Layer-, Instance-, GroupNormalization) are differentiated from their Jacobian within each group.
 */
import { attrFloat, attrInt, attrInts, attrString, type Graph, type Node } from '../../src/ir/graph.js';
import { toNumbers } from '../../src/ir/tensor.js';

/** A dense Float64 tensor, row-major. */
export interface RefTensor {
  dims: number[];
  data: Float64Array;
}

export type RefMethod = 'gradient' | 'deconvnet' | 'guided-backprop';

// ───────────────────────────── index helpers ─────────────────────────────

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

function rowStrides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/** LRN's attributes and its channel window [c − lo, c + hi] (ONNX: lo = ⌊(size−1)/2⌋, hi = ⌈(size−1)/2⌉). */
function lrnParams(node: Node): { alpha: number; beta: number; bias: number; size: number; lo: number; hi: number } {
  const size = attrInt(node, 'size', 1);
  return { alpha: attrFloat(node, 'alpha', 1e-4), beta: attrFloat(node, 'beta', 0.75), bias: attrFloat(node, 'bias', 1), size, lo: Math.floor((size - 1) / 2), hi: Math.ceil((size - 1) / 2) };
}

/** d = bias + α/size · Σ_{window} x², per element of an [N, C, H, W] tensor. */
function lrnDivisor(node: Node, X: RefTensor): Float64Array {
  const { alpha, bias, size, lo, hi } = lrnParams(node);
  const [N, C, H, W] = X.dims as [number, number, number, number];
  const d = new Float64Array(X.data.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let p = 0; p < H * W; p++) {
        let s = 0;
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++) s += X.data[(n * C + k) * H * W + p]! ** 2;
        d[(n * C + c) * H * W + p] = bias + (alpha / size) * s;
      }
  return d;
}

/**
 * Every assignment of the einsum's index letters (explicit `ab,bc->ac` form): for each, the flat
 * offsets into each operand and into the output. Written by plain enumeration of the index space.
 */
export function einsumTerms(equation: string, dims: readonly (readonly number[])[]): { outDims: number[]; visit(f: (out: number, operands: number[]) => void): void } {
  const [lhs, out] = equation.replace(/\s+/g, '').split('->') as [string, string];
  const terms = lhs.split(',');
  const size = new Map<string, number>();
  terms.forEach((t, i) => [...t].forEach((c, j) => size.set(c, Math.max(size.get(c) ?? 1, dims[i]![j]!))));
  const letters = [...size.keys()];
  const outDims = [...out].map((c) => size.get(c)!);
  const strideOf = (t: string, d: readonly number[]): Map<string, number> => {
    const m = new Map<string, number>();
    let acc = 1;
    for (let j = t.length - 1; j >= 0; j--) {
      if (d[j] !== 1) m.set(t[j]!, (m.get(t[j]!) ?? 0) + acc);
      acc *= d[j]!;
    }
    return m;
  };
  const strides = terms.map((t, i) => strideOf(t, dims[i]!));
  const outStrides = strideOf(out, outDims);
  return {
    outDims,
    visit(f) {
      const idx = new Map(letters.map((c) => [c, 0]));
      const total = letters.reduce((a, c) => a * size.get(c)!, 1);
      for (let n = 0; n < total; n++) {
        let rem = n;
        for (let l = letters.length - 1; l >= 0; l--) {
          const c = letters[l]!;
          idx.set(c, rem % size.get(c)!);
          rem = Math.floor(rem / size.get(c)!);
        }
        const at = (m: Map<string, number>): number => {
          let o = 0;
          for (const [c, st] of m) o += idx.get(c)! * st;
          return o;
        };
        f(at(outStrides), strides.map(at));
      }
    },
  };
}

/** Multi-index of flat position k in a row-major tensor of `dims`. */
function unravel(k: number, dims: readonly number[]): number[] {
  const idx = new Array<number>(dims.length);
  for (let i = dims.length - 1; i >= 0; i--) {
    idx[i] = k % dims[i]!;
    k = Math.floor(k / dims[i]!);
  }
  return idx;
}

/** Numpy (multidirectional) broadcasting of several shapes. */
function broadcastDims(shapes: readonly (readonly number[])[], where: string): number[] {
  const r = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(r).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = r - s.length + i;
      const d = s[i]!;
      if (d === 1) continue;
      if (out[j] !== 1 && out[j] !== d) throw new Error(`${where}: shapes ${shapes.map((x) => `[${x}]`).join(' ')} do not broadcast`);
      out[j] = d;
    }
  }
  return out;
}

/**
 * For every element k of a tensor of `outDims`, the flat index of the element of a tensor of
 * `inDims` that broadcasting reads there (dims right-aligned, size-1 dims repeat).
 */
function broadcastOffsets(outDims: readonly number[], inDims: readonly number[]): Int32Array {
  const n = numel(outDims);
  const res = new Int32Array(n);
  const shift = outDims.length - inDims.length;
  const inStr = rowStrides(inDims);
  for (let k = 0; k < n; k++) {
    const idx = unravel(k, outDims);
    let off = 0;
    for (let j = 0; j < inDims.length; j++) if (inDims[j] !== 1) off += idx[j + shift]! * inStr[j]!;
    res[k] = off;
  }
  return res;
}

const normAxis = (a: number, rank: number): number => (a < 0 ? a + rank : a);

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function tensor(dims: number[], data?: Float64Array): RefTensor {
  const n = numel(dims);
  if (data && data.length !== n) throw new Error(`tensor of shape [${dims}] cannot hold ${data.length} values`);
  return { dims: [...dims], data: data ?? new Float64Array(n) };
}

// ───────────────────────────── window geometry ─────────────────────────────

interface Window2d {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** [top, left, bottom, right] (ONNX order: begins, then ends). */
  pads: [number, number, number, number];
  ceil: boolean;
  outH: number;
  outW: number;
}

/** Output length of one spatial axis (PyTorch's and onnxruntime's rule, ceil_mode included). */
function windowCount(size: number, k: number, s: number, pBegin: number, pEnd: number, d: number, ceil: boolean): number {
  const span = size + pBegin + pEnd - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // With ceil_mode the last window must start inside the input or its begin padding.
  if (ceil && (out - 1) * s >= size + pBegin) out--;
  return out;
}

function window2d(node: Node, x: readonly number[], kernelFromWeight?: number[]): Window2d {
  if (x.length !== 4) throw new Error(`node '${node.name}' (${node.op}): the reference handles 2-D (NCHW) inputs only, got [${x}]`);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID') throw new Error(`node '${node.name}' (${node.op}): auto_pad ${autoPad} (the reference needs explicit pads)`);
  const k = attrInts(node, 'kernel_shape') ?? kernelFromWeight;
  if (!k || k.length !== 2) throw new Error(`node '${node.name}' (${node.op}): kernel_shape must have 2 entries`);
  const s = attrInts(node, 'strides') ?? [1, 1];
  const d = attrInts(node, 'dilations') ?? [1, 1];
  const p = autoPad === 'VALID' ? [0, 0, 0, 0] : (attrInts(node, 'pads') ?? [0, 0, 0, 0]);
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const H = x[2]!, W = x[3]!;
  return {
    kernel: [k[0]!, k[1]!],
    strides: [s[0]!, s[1]!],
    dilations: [d[0]!, d[1]!],
    pads: [p[0]!, p[1]!, p[2]!, p[3]!],
    ceil,
    outH: windowCount(H, k[0]!, s[0]!, p[0]!, p[2]!, d[0]!, ceil),
    outW: windowCount(W, k[1]!, s[1]!, p[1]!, p[3]!, d[1]!, ceil),
  };
}

// ───────────────────────────── forward ops ─────────────────────────────

type Ins = (RefTensor | undefined)[];

function need(node: Node, ins: Ins, i: number): RefTensor {
  const t = ins[i];
  if (!t) throw new Error(`node '${node.name}' (${node.op}): input ${i} is missing`);
  return t;
}

const ints = (t: RefTensor): number[] => Array.from(t.data, (v) => Math.trunc(v));

function convForward(node: Node, x: RefTensor, w: RefTensor, b: RefTensor | undefined): RefTensor {
  const [N, C, H, W] = x.dims as [number, number, number, number];
  const [M, Cg, KH, KW] = w.dims as [number, number, number, number];
  const group = attrInt(node, 'group', 1);
  if (C !== Cg * group || M % group !== 0) throw new Error(`node '${node.name}' (Conv): channels ${C}, weight [${w.dims}], group ${group} disagree`);
  const g = window2d(node, x.dims, [KH, KW]);
  const Mg = M / group;
  const y = tensor([N, M, g.outH, g.outW]);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / Mg);
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++) {
          let acc = b ? b.data[m]! : 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * g.strides[1] - g.pads[1] + kw * g.dilations[1];
                if (iw < 0 || iw >= W) continue;
                acc += x.data[((n * C + grp * Cg + c) * H + ih) * W + iw]! * w.data[((m * Cg + c) * KH + kh) * KW + kw]!;
              }
            }
          y.data[((n * M + m) * g.outH + oh) * g.outW + ow] = acc;
        }
    }
  return y;
}

function convBackward(node: Node, x: RefTensor, w: RefTensor, R: Float64Array): Float64Array {
  const [N, C, H, W] = x.dims as [number, number, number, number];
  const [M, Cg, KH, KW] = w.dims as [number, number, number, number];
  const group = attrInt(node, 'group', 1);
  const g = window2d(node, x.dims, [KH, KW]);
  const Mg = M / group;
  const dx = new Float64Array(x.data.length);
  // Scatter: each output position sends R·w back to every input it read.
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const grp = Math.floor(m / Mg);
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++) {
          const r = R[((n * M + m) * g.outH + oh) * g.outW + ow]!;
          if (r === 0) continue;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * g.strides[1] - g.pads[1] + kw * g.dilations[1];
                if (iw < 0 || iw >= W) continue;
                dx[((n * C + grp * Cg + c) * H + ih) * W + iw]! += r * w.data[((m * Cg + c) * KH + kh) * KW + kw]!;
              }
            }
        }
    }
  return dx;
}

/** Flat input index of the winner of every MaxPool output (first maximum in row-major window order; padding never wins). */
function maxPoolSwitches(node: Node, x: RefTensor): { dims: number[]; switches: Int32Array } {
  if (node.outputs.length > 1 && node.outputs[1]) throw new Error(`node '${node.name}' (MaxPool): the Indices output is not supported`);
  const [N, C, H, W] = x.dims as [number, number, number, number];
  const g = window2d(node, x.dims);
  const dims = [N, C, g.outH, g.outW];
  const switches = new Int32Array(numel(dims)).fill(-1);
  for (let nc = 0; nc < N * C; nc++)
    for (let oh = 0; oh < g.outH; oh++)
      for (let ow = 0; ow < g.outW; ow++) {
        let best = -Infinity;
        let arg = -1;
        for (let kh = 0; kh < g.kernel[0]; kh++) {
          const ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < g.kernel[1]; kw++) {
            const iw = ow * g.strides[1] - g.pads[1] + kw * g.dilations[1];
            if (iw < 0 || iw >= W) continue;
            const at = (nc * H + ih) * W + iw;
            if (arg < 0 || x.data[at]! > best) {
              best = x.data[at]!;
              arg = at;
            }
          }
        }
        if (arg < 0) throw new Error(`node '${node.name}' (MaxPool): a window lies entirely in the padding`);
        switches[(nc * g.outH + oh) * g.outW + ow] = arg;
      }
  return { dims, switches };
}

/**
 * AveragePool windows as PyTorch and onnxruntime clip them: a window is cut at the end of the
 * padded input (so a ceil_mode window that runs past it is shorter), and count_include_pad=1 divides
 * by the cut window's size, padding included; count_include_pad=0 by the number of real inputs.
 */
function avgPoolWindows(node: Node, x: RefTensor): { dims: number[]; visit: (f: (outAt: number, inAt: number, weight: number) => void) => void } {
  const [N, C, H, W] = x.dims as [number, number, number, number];
  const g = window2d(node, x.dims);
  if (g.dilations[0] !== 1 || g.dilations[1] !== 1) throw new Error(`node '${node.name}' (AveragePool): dilations are not supported`);
  const includePad = attrInt(node, 'count_include_pad', 0) === 1;
  const dims = [N, C, g.outH, g.outW];
  const visit = (f: (outAt: number, inAt: number, weight: number) => void): void => {
    for (let nc = 0; nc < N * C; nc++)
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++) {
          const h0 = oh * g.strides[0] - g.pads[0];
          const w0 = ow * g.strides[1] - g.pads[1];
          const h1 = Math.min(h0 + g.kernel[0], H + g.pads[2]);
          const w1 = Math.min(w0 + g.kernel[1], W + g.pads[3]);
          const hs = Math.max(h0, 0), ws = Math.max(w0, 0);
          const he = Math.min(h1, H), we = Math.min(w1, W);
          const count = includePad ? (h1 - h0) * (w1 - w0) : (he - hs) * (we - ws);
          const outAt = (nc * g.outH + oh) * g.outW + ow;
          for (let ih = hs; ih < he; ih++) for (let iw = ws; iw < we; iw++) f(outAt, (nc * H + ih) * W + iw, 1 / count);
        }
  };
  return { dims, visit };
}

function gemmParams(node: Node, A: RefTensor, B: RefTensor) {
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  if (A.dims.length !== 2 || B.dims.length !== 2) throw new Error(`node '${node.name}' (Gemm): A and B must be 2-D`);
  const [M, K] = transA ? [A.dims[1]!, A.dims[0]!] : [A.dims[0]!, A.dims[1]!];
  const [K2, Nn] = transB ? [B.dims[1]!, B.dims[0]!] : [B.dims[0]!, B.dims[1]!];
  if (K !== K2) throw new Error(`node '${node.name}' (Gemm): inner dimensions ${K} and ${K2} differ`);
  // Flat positions of A'[i,k] and B'[k,j].
  const aAt = (i: number, k: number): number => (transA ? k * M + i : i * K + k);
  const bAt = (k: number, j: number): number => (transB ? j * K + k : k * Nn + j);
  return { M, K, N: Nn, aAt, bAt, alpha: attrFloat(node, 'alpha', 1), beta: attrFloat(node, 'beta', 1) };
}

interface MatMulPlan {
  M: number;
  K: number;
  N: number;
  batch: number[];
  offA: Int32Array;
  offB: Int32Array;
  outDims: number[];
}

function matmulPlan(node: Node, a: readonly number[], b: readonly number[]): MatMulPlan {
  const ad = a.length === 1 ? [1, a[0]!] : [...a];
  const bd = b.length === 1 ? [b[0]!, 1] : [...b];
  const M = ad[ad.length - 2]!, K = ad[ad.length - 1]!, K2 = bd[bd.length - 2]!, N = bd[bd.length - 1]!;
  if (K !== K2) throw new Error(`node '${node.name}' (MatMul): inner dimensions differ: [${a}] × [${b}]`);
  const batchA = ad.slice(0, -2), batchB = bd.slice(0, -2);
  const batch = broadcastDims([batchA, batchB], `node '${node.name}' (MatMul)`);
  const outDims = [...batch, M, N];
  if (a.length === 1) outDims.splice(outDims.length - 2, 1);
  if (b.length === 1) outDims.splice(outDims.length - 1, 1);
  return { M, K, N, batch, offA: broadcastOffsets(batch, batchA), offB: broadcastOffsets(batch, batchB), outDims };
}

function slicePlan(dims: readonly number[], starts: number[], ends: number[], axes?: number[], steps?: number[]) {
  const r = dims.length;
  const plan = dims.map((d) => ({ start: 0, step: 1, size: d }));
  (axes ?? starts.map((_, i) => i)).forEach((a0, i) => {
    const a = normAxis(a0, r);
    const d = dims[a]!;
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new Error('Slice: step 0');
    let s = starts[i]!, e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.max(0, Math.min(s, d));
      e = Math.max(0, Math.min(e, d));
      plan[a] = { start: s, step, size: Math.max(0, Math.ceil((e - s) / step)) };
    } else {
      s = Math.max(0, Math.min(s, d - 1));
      e = Math.max(-1, Math.min(e, d - 1));
      plan[a] = { start: s, step, size: Math.max(0, Math.ceil((s - e) / -step)) };
    }
  });
  return plan;
}

/** Flat input index read by each output element of a Slice. */
function sliceMap(node: Node, x: RefTensor, ins: Ins): { dims: number[]; map: Int32Array } {
  const plan = slicePlan(
    x.dims,
    ints(need(node, ins, 1)),
    ints(need(node, ins, 2)),
    ins[3] ? ints(ins[3]) : undefined,
    ins[4] ? ints(ins[4]) : undefined,
  );
  const dims = plan.map((p) => p.size);
  const str = rowStrides(x.dims);
  const map = new Int32Array(numel(dims));
  for (let k = 0; k < map.length; k++) {
    const idx = unravel(k, dims);
    let off = 0;
    for (let i = 0; i < dims.length; i++) off += (plan[i]!.start + idx[i]! * plan[i]!.step) * str[i]!;
    map[k] = off;
  }
  return { dims, map };
}

/** Flat input index read by each output element of a Transpose. */
function transposeMap(node: Node, x: RefTensor): { dims: number[]; map: Int32Array } {
  const r = x.dims.length;
  const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => r - 1 - i);
  const dims = perm.map((p) => x.dims[p]!);
  const str = rowStrides(x.dims);
  const map = new Int32Array(numel(dims));
  for (let k = 0; k < map.length; k++) {
    const idx = unravel(k, dims);
    let off = 0;
    for (let i = 0; i < r; i++) off += idx[i]! * str[perm[i]!]!;
    map[k] = off;
  }
  return { dims, map };
}

/** Flat input index read by each output element of a constant-mode Pad (-1: the pad value). */
function padMap(node: Node, x: RefTensor, ins: Ins): { dims: number[]; map: Int32Array; value: number } {
  const mode = attrString(node, 'mode', 'constant');
  if (mode !== 'constant') throw new Error(`node '${node.name}' (Pad): mode '${mode}' is not supported`);
  const r = x.dims.length;
  const pads = ints(need(node, ins, 1));
  if (pads.length !== 2 * r) throw new Error(`node '${node.name}' (Pad): ${pads.length} pads for rank ${r}`);
  const value = ins[2] ? ins[2].data[0]! : 0;
  const dims = x.dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const str = rowStrides(x.dims);
  const map = new Int32Array(numel(dims));
  for (let k = 0; k < map.length; k++) {
    const idx = unravel(k, dims);
    let off = 0;
    for (let i = 0; i < r; i++) {
      const j = idx[i]! - pads[i]!;
      if (j < 0 || j >= x.dims[i]!) {
        off = -1;
        break;
      }
      off += j * str[i]!;
    }
    map[k] = off;
  }
  return { dims, map, value };
}

function gatherBy(dims: number[], map: Int32Array, src: Float64Array, fill = 0): RefTensor {
  const y = tensor(dims);
  for (let k = 0; k < map.length; k++) y.data[k] = map[k]! < 0 ? fill : src[map[k]!]!;
  return y;
}

function scatterBy(n: number, map: Int32Array, R: Float64Array): Float64Array {
  const dx = new Float64Array(n);
  for (let k = 0; k < map.length; k++) if (map[k]! >= 0) dx[map[k]!]! += R[k]!;
  return dx;
}

function reshapeDims(node: Node, x: readonly number[], shape: number[]): number[] {
  const allowzero = attrInt(node, 'allowzero', 0) === 1;
  const out = shape.map((s, i) => (s === 0 && !allowzero ? x[i]! : s));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const rest = out.reduce((a, s, i) => (i === neg ? a : a * s), 1);
    out[neg] = numel(x) / rest;
  }
  if (numel(out) !== numel(x) || out.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`node '${node.name}' (Reshape): cannot reshape [${x}] to [${shape}]`);
  return out;
}

/** Split sizes along the axis: from input 1, else equal chunks (the last one smaller when uneven). */
function splitSizes(node: Node, x: RefTensor, ins: Ins): { axis: number; sizes: number[] } {
  const axis = normAxis(attrInt(node, 'axis', 0), x.dims.length);
  const n = node.outputs.length;
  const d = x.dims[axis]!;
  let sizes: number[];
  if (ins[1]) sizes = ints(ins[1]);
  else {
    const chunk = Math.ceil(d / n);
    sizes = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
  }
  if (sizes.reduce((a, b) => a + b, 0) !== d) throw new Error(`node '${node.name}' (Split): sizes [${sizes}] do not add up to ${d}`);
  return { axis, sizes };
}

/** Unary elementwise map. */
function map1(x: RefTensor, f: (v: number, i: number) => number): RefTensor {
  const y = tensor(x.dims);
  for (let i = 0; i < y.data.length; i++) y.data[i] = f(x.data[i]!, i);
  return y;
}

/** Clip bounds (inputs 1 and 2, each optional). */
function clipBounds(ins: Ins): { lo: number; hi: number } {
  return { lo: ins[1] ? ins[1].data[0]! : -Infinity, hi: ins[2] ? ins[2].data[0]! : Infinity };
}

/** Broadcast the PRelu slope to the input's shape (unidirectional). */
function preluSlope(node: Node, x: RefTensor, s: RefTensor): Float64Array {
  const dims = broadcastDims([x.dims, s.dims], `node '${node.name}' (PRelu)`);
  if (!sameDims(dims, x.dims)) throw new Error(`node '${node.name}' (PRelu): slope [${s.dims}] does not broadcast to [${x.dims}]`);
  const off = broadcastOffsets(x.dims, s.dims);
  return Float64Array.from(off, (o) => s.data[o]!);
}

function bnScaleShift(node: Node, x: RefTensor, ins: Ins): { scale: Float64Array; shift: Float64Array; inner: number } {
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => need(node, ins, i));
  const C = x.dims[1]!;
  const scale = new Float64Array(C), shift = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    scale[c] = gamma!.data[c]! / Math.sqrt(variance!.data[c]! + eps);
    shift[c] = beta!.data[c]! - mean!.data[c]! * scale[c]!;
  }
  return { scale, shift, inner: numel(x.dims.slice(2)) };
}

function softmaxAxis(node: Node, x: RefTensor): { outer: number; len: number; inner: number } {
  const a = normAxis(attrInt(node, 'axis', -1), x.dims.length);
  return { outer: numel(x.dims.slice(0, a)), len: x.dims[a]!, inner: numel(x.dims.slice(a + 1)) };
}

function elementwiseForward(node: Node, ins: RefTensor[], f: (...v: number[]) => number): RefTensor {
  const dims = broadcastDims(ins.map((t) => t.dims), `node '${node.name}' (${node.op})`);
  const offs = ins.map((t) => broadcastOffsets(dims, t.dims));
  const y = tensor(dims);
  const args = new Array<number>(ins.length);
  for (let k = 0; k < y.data.length; k++) {
    for (let j = 0; j < ins.length; j++) args[j] = ins[j]!.data[offs[j]![k]!]!;
    y.data[k] = f(...args);
  }
  return y;
}

// ───────────────────────────── ops of modern classifiers ─────────────────────────────

/**
 * erf in Float64: its Maclaurin series below |x| = 2.5 (alternating terms no larger than ~e^{6.25},
 * so ~1e-14 absolute), Laplace's continued fraction for erfc above.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x, sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …))))), evaluated from the tail.
  let f = a;
  for (let k = 120; k >= 1; k--) f = a + k / 2 / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/** The reduced axes of a Reduce* node (input 1 or the `axes` attribute); empty: all, or none with noop_with_empty_axes. */
function reducedAxisSet(node: Node, x: RefTensor, ins: Ins): Set<number> {
  const given = ins[1] ? ints(ins[1]) : (attrInts(node, 'axes') ?? []);
  const r = x.dims.length;
  if (given.length === 0) return new Set(attrInt(node, 'noop_with_empty_axes', 0) === 1 ? [] : x.dims.map((_, i) => i));
  return new Set(given.map((a) => normAxis(a, r)));
}

/** For every input element of a reduction, the flat index of its output element; and the output dims. */
function reduceMap(node: Node, x: RefTensor, ins: Ins): { dims: number[]; map: Int32Array; count: number } {
  const axes = reducedAxisSet(node, x, ins);
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const kept = x.dims.map((d, i) => (axes.has(i) ? 1 : d));
  const dims = keep ? kept : x.dims.filter((_, i) => !axes.has(i));
  const str = rowStrides(kept);
  const map = new Int32Array(x.data.length);
  for (let k = 0; k < map.length; k++) {
    const idx = unravel(k, x.dims);
    let off = 0;
    for (let i = 0; i < idx.length; i++) if (!axes.has(i)) off += idx[i]! * str[i]!;
    map[k] = off;
  }
  return { dims, map, count: numel(x.dims.filter((_, i) => axes.has(i))) };
}

function reduceForward(node: Node, x: RefTensor, ins: Ins): RefTensor {
  const { dims, map, count } = reduceMap(node, x, ins);
  const y = tensor(dims);
  const isMax = node.op === 'ReduceMax', isMin = node.op === 'ReduceMin';
  if (isMax || isMin) y.data.fill(isMax ? -Infinity : Infinity);
  for (let k = 0; k < map.length; k++) {
    const v = x.data[k]!, o = map[k]!;
    if (isMax) y.data[o] = Math.max(y.data[o]!, v);
    else if (isMin) y.data[o] = Math.min(y.data[o]!, v);
    else y.data[o]! += node.op === 'ReduceSumSquare' || node.op === 'ReduceL2' ? v * v : v;
  }
  if (node.op === 'ReduceMean') for (let o = 0; o < y.data.length; o++) y.data[o]! /= count;
  if (node.op === 'ReduceL2') for (let o = 0; o < y.data.length; o++) y.data[o] = Math.sqrt(y.data[o]!);
  return y;
}

/** The vector–Jacobian product of a reduction (max/min: the signal shared evenly among tied winners, as PyTorch's amax). */
function reduceBackward(node: Node, x: RefTensor, y: RefTensor, ins: Ins, R: Float64Array): Float64Array {
  const { map, count } = reduceMap(node, x, ins);
  const dx = new Float64Array(x.data.length);
  const ties = new Float64Array(y.data.length);
  if (node.op === 'ReduceMax' || node.op === 'ReduceMin') for (let k = 0; k < map.length; k++) if (x.data[k] === y.data[map[k]!]) ties[map[k]!]! += 1;
  for (let k = 0; k < map.length; k++) {
    const o = map[k]!, r = R[o]!, v = x.data[k]!;
    switch (node.op) {
      case 'ReduceMean': dx[k] = r / count; break;
      case 'ReduceSum': dx[k] = r; break;
      case 'ReduceSumSquare': dx[k] = 2 * v * r; break;
      case 'ReduceL2': dx[k] = y.data[o] === 0 ? 0 : (v / y.data[o]!) * r; break;
      default: dx[k] = v === y.data[o] ? r / ties[o]! : 0;
    }
  }
  return dx;
}

/**
 * LayerNormalization (over the axes from `axis` on), InstanceNormalization (over the spatial axes)
 * and GroupNormalization (over each group of channels and the spatial axes): the normalized groups
 * are contiguous runs of `inner` elements. γ and β of each element (GroupNormalization: per group
 * before opset 21, per channel from 21, told apart by their length).
 */
function normGroups(node: Node, x: RefTensor, ins: Ins): { inner: number; gamma: Float64Array; beta: Float64Array; eps: number } {
  const n = x.data.length;
  const gamma = new Float64Array(n).fill(1), beta = new Float64Array(n);
  let inner: number;
  if (node.op === 'LayerNormalization') {
    const a = normAxis(attrInt(node, 'axis', -1), x.dims.length);
    const tail = x.dims.slice(a);
    inner = numel(tail);
    const spread = (t: RefTensor | undefined, into: Float64Array): void => {
      if (!t) return;
      const off = broadcastOffsets(tail, t.dims);
      for (let k = 0; k < n; k++) into[k] = t.data[off[k % inner]!]!;
    };
    spread(ins[1], gamma);
    spread(ins[2], beta);
  } else if (node.op === 'GroupNormalization') {
    const G = attrInt(node, 'num_groups', 0);
    const C = x.dims[1]!, area = numel(x.dims.slice(2));
    if (G < 1 || C % G !== 0) throw new Error(`node '${node.name}' (GroupNormalization): ${G} groups for ${C} channels`);
    inner = (C / G) * area;
    const [s, b] = [need(node, ins, 1), need(node, ins, 2)];
    for (let k = 0; k < n; k++) {
      const c = Math.floor(k / area) % C;
      const at = s.data.length === C ? c : Math.floor(c / (C / G));
      gamma[k] = s.data[at]!;
      beta[k] = b.data[at]!;
    }
  } else {
    inner = numel(x.dims.slice(2));
    const C = x.dims[1]!;
    const [s, b] = [need(node, ins, 1), need(node, ins, 2)];
    for (let k = 0; k < n; k++) {
      const c = Math.floor(k / inner) % C;
      gamma[k] = s.data[c]!;
      beta[k] = b.data[c]!;
    }
  }
  return { inner, gamma, beta, eps: attrFloat(node, 'epsilon', 1e-5) };
}

/** Per element: x̂ = (x − μ)·r and r = 1/√(var + ε) of its group. */
function normStats(x: RefTensor, inner: number, eps: number): { xhat: Float64Array; r: Float64Array } {
  const xhat = new Float64Array(x.data.length), r = new Float64Array(x.data.length);
  for (let g = 0; g < x.data.length / inner; g++) {
    let mean = 0;
    for (let i = 0; i < inner; i++) mean += x.data[g * inner + i]!;
    mean /= inner;
    let variance = 0;
    for (let i = 0; i < inner; i++) variance += (x.data[g * inner + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / inner + eps);
    for (let i = 0; i < inner; i++) {
      xhat[g * inner + i] = (x.data[g * inner + i]! - mean) * inv;
      r[g * inner + i] = inv;
    }
  }
  return { xhat, r };
}

/**
 * The normalization's vector–Jacobian product from its Jacobian, element by element within a group:
 * ∂y_j/∂x_i = γ_j r (δ_ij − 1/n − x̂_i x̂_j / n).
 */
function normBackward(node: Node, x: RefTensor, ins: Ins, R: Float64Array): Float64Array {
  const { inner, gamma, eps } = normGroups(node, x, ins);
  const { xhat, r } = normStats(x, inner, eps);
  const dx = new Float64Array(x.data.length);
  for (let g = 0; g < x.data.length / inner; g++)
    for (let i = 0; i < inner; i++) {
      const a = g * inner + i;
      let acc = 0;
      for (let j = 0; j < inner; j++) {
        const b = g * inner + j;
        acc += R[b]! * gamma[b]! * r[b]! * ((i === j ? 1 : 0) - 1 / inner - (xhat[a]! * xhat[b]!) / inner);
      }
      dx[a] = acc;
    }
  return dx;
}

/** Flat input index read by each output element of a Gather (constant indices). */
function gatherMap(node: Node, x: RefTensor, idx: RefTensor): { dims: number[]; map: Int32Array } {
  const axis = normAxis(attrInt(node, 'axis', 0), x.dims.length);
  const d = x.dims[axis]!;
  const picks = ints(idx).map((i) => (i < 0 ? i + d : i));
  if (picks.some((i) => i < 0 || i >= d)) throw new Error(`node '${node.name}' (Gather): an index is out of range for an axis of size ${d}`);
  const outer = numel(x.dims.slice(0, axis)), inner = numel(x.dims.slice(axis + 1));
  const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
  const map = new Int32Array(numel(dims));
  let k = 0;
  for (let o = 0; o < outer; o++) for (const p of picks) for (let i = 0; i < inner; i++) map[k++] = (o * d + p) * inner + i;
  return { dims, map };
}

/** Flat input index read by each output element of an Expand. */
function expandMap(node: Node, x: RefTensor, shape: RefTensor): { dims: number[]; map: Int32Array } {
  const dims = broadcastDims([x.dims, ints(shape)], `node '${node.name}' (Expand)`);
  return { dims, map: broadcastOffsets(dims, x.dims) };
}

/** Flat input index read by each output element of a Tile. */
function tileMap(node: Node, x: RefTensor, reps: RefTensor): { dims: number[]; map: Int32Array } {
  const r = ints(reps);
  if (r.length !== x.dims.length) throw new Error(`node '${node.name}' (Tile): ${r.length} repeats for rank ${x.dims.length}`);
  const dims = x.dims.map((d, i) => d * r[i]!);
  const str = rowStrides(x.dims);
  const map = new Int32Array(numel(dims));
  for (let k = 0; k < map.length; k++) {
    const idx = unravel(k, dims);
    let off = 0;
    for (let i = 0; i < idx.length; i++) off += (idx[i]! % x.dims[i]!) * str[i]!;
    map[k] = off;
  }
  return { dims, map };
}

/** Sums a signal of `outDims` back onto a tensor of `inDims` that broadcasting expanded to it. */
function unbroadcastSum(R: Float64Array, outDims: readonly number[], inDims: readonly number[], weight?: (k: number) => number): Float64Array {
  const off = broadcastOffsets(outDims, inDims);
  const g = new Float64Array(numel(inDims));
  for (let k = 0; k < R.length; k++) g[off[k]!]! += weight ? R[k]! * weight(k) : R[k]!;
  return g;
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function evalNode(node: Node, ins: Ins): RefTensor[] {
  const x = (): RefTensor => need(node, ins, 0);
  switch (node.op) {
    case 'Identity':
      return [tensor(x().dims, Float64Array.from(x().data))];
    case 'Conv':
      return [convForward(node, x(), need(node, ins, 1), ins[2])];
    case 'Gemm': {
      const A = x(), B = need(node, ins, 1), Cc = ins[2];
      const p = gemmParams(node, A, B);
      const y = tensor([p.M, p.N]);
      const cOff = Cc ? broadcastOffsets([p.M, p.N], Cc.dims) : undefined;
      if (Cc && !sameDims(broadcastDims([[p.M, p.N], Cc.dims], `node '${node.name}' (Gemm)`), [p.M, p.N])) {
        throw new Error(`node '${node.name}' (Gemm): C [${Cc.dims}] does not broadcast to [${p.M}, ${p.N}]`);
      }
      for (let i = 0; i < p.M; i++)
        for (let j = 0; j < p.N; j++) {
          let acc = 0;
          for (let k = 0; k < p.K; k++) acc += A.data[p.aAt(i, k)]! * B.data[p.bAt(k, j)]!;
          y.data[i * p.N + j] = p.alpha * acc + (Cc ? p.beta * Cc.data[cOff![i * p.N + j]!]! : 0);
        }
      return [y];
    }
    case 'MatMul': {
      const A = x(), B = need(node, ins, 1);
      const p = matmulPlan(node, A.dims, B.dims);
      const y = tensor(p.outDims);
      const nb = numel(p.batch);
      for (let bi = 0; bi < nb; bi++) {
        const a0 = p.offA[bi]! * p.M * p.K, b0 = p.offB[bi]! * p.K * p.N, y0 = bi * p.M * p.N;
        for (let i = 0; i < p.M; i++)
          for (let j = 0; j < p.N; j++) {
            let acc = 0;
            for (let k = 0; k < p.K; k++) acc += A.data[a0 + i * p.K + k]! * B.data[b0 + k * p.N + j]!;
            y.data[y0 + i * p.N + j] = acc;
          }
      }
      return [y];
    }
    case 'Add': return [elementwiseForward(node, [x(), need(node, ins, 1)], (a, b) => a! + b!)];
    case 'Sub': return [elementwiseForward(node, [x(), need(node, ins, 1)], (a, b) => a! - b!)];
    case 'Mul': return [elementwiseForward(node, [x(), need(node, ins, 1)], (a, b) => a! * b!)];
    case 'Div': return [elementwiseForward(node, [x(), need(node, ins, 1)], (a, b) => a! / b!)];
    case 'Sum': return [elementwiseForward(node, ins.map((_, i) => need(node, ins, i)), (...v) => v.reduce((a, b) => a + b, 0))];
    case 'Relu': return [map1(x(), (v) => (v > 0 ? v : 0))];
    case 'LeakyRelu': {
      const alpha = attrFloat(node, 'alpha', 0.01);
      return [map1(x(), (v) => (v >= 0 ? v : alpha * v))];
    }
    case 'PRelu': {
      const slope = preluSlope(node, x(), need(node, ins, 1));
      return [map1(x(), (v, i) => (v >= 0 ? v : slope[i]! * v))];
    }
    case 'Clip': {
      const { lo, hi } = clipBounds(ins);
      return [map1(x(), (v) => Math.min(Math.max(v, lo), hi))];
    }
    case 'Sigmoid': return [map1(x(), (v) => 1 / (1 + Math.exp(-v)))];
    case 'Tanh': return [map1(x(), Math.tanh)];
    case 'HardSigmoid': {
      const alpha = attrFloat(node, 'alpha', 0.2), beta = attrFloat(node, 'beta', 0.5);
      return [map1(x(), (v) => Math.max(0, Math.min(1, alpha * v + beta)))];
    }
    case 'HardSwish': return [map1(x(), (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5)))];
    case 'MaxPool': {
      const X = x();
      const { dims, switches } = maxPoolSwitches(node, X);
      return [gatherBy(dims, switches, X.data)];
    }
    case 'AveragePool': {
      const { dims, visit } = avgPoolWindows(node, x());
      const y = tensor(dims);
      const X = x();
      visit((o, i, wt) => (y.data[o]! += wt * X.data[i]!));
      return [y];
    }
    case 'GlobalAveragePool': case 'GlobalMaxPool': {
      const X = x();
      const inner = numel(X.dims.slice(2));
      const y = tensor([X.dims[0]!, X.dims[1]!, ...X.dims.slice(2).map(() => 1)]);
      for (let nc = 0; nc < y.data.length; nc++) {
        let acc = node.op === 'GlobalMaxPool' ? -Infinity : 0;
        for (let s = 0; s < inner; s++) {
          const v = X.data[nc * inner + s]!;
          acc = node.op === 'GlobalMaxPool' ? Math.max(acc, v) : acc + v;
        }
        y.data[nc] = node.op === 'GlobalMaxPool' ? acc : acc / inner;
      }
      return [y];
    }
    case 'Concat': {
      const parts = ins.map((_, i) => need(node, ins, i));
      const r = parts[0]!.dims.length;
      const axis = normAxis(attrInt(node, 'axis', 0), r);
      const dims = [...parts[0]!.dims];
      dims[axis] = parts.reduce((s, t) => s + t.dims[axis]!, 0);
      const outer = numel(dims.slice(0, axis));
      const y = tensor(dims);
      let at = 0;
      for (let o = 0; o < outer; o++)
        for (const t of parts) {
          const chunk = numel(t.dims.slice(axis));
          for (let k = 0; k < chunk; k++) y.data[at++] = t.data[o * chunk + k]!;
        }
      return [y];
    }
    case 'Split': {
      const X = x();
      const { axis, sizes } = splitSizes(node, X, ins);
      const outer = numel(X.dims.slice(0, axis));
      const inner = numel(X.dims.slice(axis + 1));
      const d = X.dims[axis]!;
      let start = 0;
      return sizes.map((s) => {
        const y = tensor(X.dims.map((v, i) => (i === axis ? s : v)));
        for (let o = 0; o < outer; o++)
          for (let a = 0; a < s; a++)
            for (let k = 0; k < inner; k++) y.data[(o * s + a) * inner + k] = X.data[(o * d + start + a) * inner + k]!;
        start += s;
        return y;
      });
    }
    case 'Slice': {
      const { dims, map } = sliceMap(node, x(), ins);
      return [gatherBy(dims, map, x().data)];
    }
    case 'Pad': {
      const { dims, map, value } = padMap(node, x(), ins);
      return [gatherBy(dims, map, x().data, value)];
    }
    case 'Transpose': {
      const { dims, map } = transposeMap(node, x());
      return [gatherBy(dims, map, x().data)];
    }
    case 'Flatten': {
      const X = x();
      const a = normAxis(attrInt(node, 'axis', 1), X.dims.length);
      return [tensor([numel(X.dims.slice(0, a)), numel(X.dims.slice(a))], Float64Array.from(X.data))];
    }
    case 'Reshape':
      return [tensor(reshapeDims(node, x().dims, ints(need(node, ins, 1))), Float64Array.from(x().data))];
    case 'Squeeze': {
      const X = x();
      const axes = ins[1] ? new Set(ints(ins[1]).map((a) => normAxis(a, X.dims.length))) : undefined;
      const dims = X.dims.filter((d, i) => (axes ? !axes.has(i) : d !== 1));
      if (axes && [...axes].some((a) => X.dims[a] !== 1)) throw new Error(`node '${node.name}' (Squeeze): an axis to squeeze is not of size 1`);
      return [tensor(dims, Float64Array.from(X.data))];
    }
    case 'Unsqueeze': {
      const X = x();
      const axesIn = ints(need(node, ins, 1));
      const r = X.dims.length + axesIn.length;
      const axes = new Set(axesIn.map((a) => normAxis(a, r)));
      const dims: number[] = [];
      let j = 0;
      for (let i = 0; i < r; i++) dims.push(axes.has(i) ? 1 : X.dims[j++]!);
      return [tensor(dims, Float64Array.from(X.data))];
    }
    case 'BatchNormalization': {
      const X = x();
      const { scale, shift, inner } = bnScaleShift(node, X, ins);
      const C = X.dims[1]!;
      return [map1(X, (v, i) => {
        const c = Math.floor(i / inner) % C;
        return v * scale[c]! + shift[c]!;
      })];
    }
    case 'Softmax': {
      const X = x();
      const { outer, len, inner } = softmaxAxis(node, X);
      const y = tensor(X.dims);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          const at = (a: number): number => (o * len + a) * inner + k;
          let m = -Infinity;
          for (let a = 0; a < len; a++) m = Math.max(m, X.data[at(a)]!);
          let s = 0;
          for (let a = 0; a < len; a++) s += Math.exp(X.data[at(a)]! - m);
          for (let a = 0; a < len; a++) y.data[at(a)] = Math.exp(X.data[at(a)]! - m) / s;
        }
      return [y];
    }
    case 'ReduceMean': case 'ReduceSum': case 'ReduceSumSquare': case 'ReduceL2': case 'ReduceMax': case 'ReduceMin':
      return [reduceForward(node, x(), ins)];
    case 'Erf': return [map1(x(), erf)];
    case 'Exp': return [map1(x(), Math.exp)];
    case 'Log': return [map1(x(), Math.log)];
    case 'Sqrt': return [map1(x(), Math.sqrt)];
    case 'Reciprocal': return [map1(x(), (v) => 1 / v)];
    case 'Neg': return [map1(x(), (v) => -v)];
    case 'Abs': return [map1(x(), Math.abs)];
    case 'Sin': return [map1(x(), Math.sin)];
    case 'Cos': return [map1(x(), Math.cos)];
    case 'Softplus': return [map1(x(), (v) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v))))];
    case 'Elu': {
      const alpha = attrFloat(node, 'alpha', 1);
      return [map1(x(), (v) => (v > 0 ? v : alpha * Math.expm1(v)))];
    }
    case 'Pow': return [elementwiseForward(node, [x(), need(node, ins, 1)], (a, b) => Math.pow(a!, b!))];
    case 'Cast': {
      const to = attrInt(node, 'to', 1);
      if (![1, 10, 11, 16].includes(to)) throw new Error(`node '${node.name}' (Cast): only casts between float types are supported (to = ${to})`);
      return [tensor(x().dims, Float64Array.from(x().data))];
    }
    case 'Dropout':
      if (node.outputs[1]) throw new Error(`node '${node.name}' (Dropout): the mask output is not supported`);
      return [tensor(x().dims, Float64Array.from(x().data))];
    case 'LogSoftmax': {
      const X = x();
      const { outer, len, inner } = softmaxAxis(node, X);
      const y = tensor(X.dims);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          const at = (a: number): number => (o * len + a) * inner + k;
          let m = -Infinity;
          for (let a = 0; a < len; a++) m = Math.max(m, X.data[at(a)]!);
          let s = 0;
          for (let a = 0; a < len; a++) s += Math.exp(X.data[at(a)]! - m);
          for (let a = 0; a < len; a++) y.data[at(a)] = X.data[at(a)]! - m - Math.log(s);
        }
      return [y];
    }
    case 'Gelu': {
      const tanhForm = attrString(node, 'approximate', 'none') === 'tanh';
      const k = Math.sqrt(2 / Math.PI);
      return [map1(x(), (v) => (tanhForm ? 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v ** 3))) : 0.5 * v * (1 + erf(v / Math.SQRT2))))];
    }
    case 'LayerNormalization': case 'InstanceNormalization': case 'GroupNormalization': {
      const X = x();
      if (node.outputs.slice(1).some((o) => o)) throw new Error(`node '${node.name}' (${node.op}): the Mean and InvStdDev outputs are not supported`);
      const { inner, gamma, beta, eps } = normGroups(node, X, ins);
      const { xhat } = normStats(X, inner, eps);
      return [map1(X, (_, i) => xhat[i]! * gamma[i]! + beta[i]!)];
    }
    case 'Gather': {
      const { dims, map } = gatherMap(node, x(), need(node, ins, 1));
      return [gatherBy(dims, map, x().data)];
    }
    case 'Expand': {
      const { dims, map } = expandMap(node, x(), need(node, ins, 1));
      return [gatherBy(dims, map, x().data)];
    }
    case 'Tile': {
      const { dims, map } = tileMap(node, x(), need(node, ins, 1));
      return [gatherBy(dims, map, x().data)];
    }
    case 'Where':
      return [elementwiseForward(node, [x(), need(node, ins, 1), need(node, ins, 2)], (c, a, b) => (c ? a! : b!))];
    case 'Einsum': {
      const ops = ins.map((_, i) => need(node, ins, i));
      const plan = einsumTerms(attrString(node, 'equation', ''), ops.map((t) => t.dims));
      const y = tensor(plan.outDims);
      plan.visit((o, at) => {
        let p = 1;
        at.forEach((a, i) => (p *= ops[i]!.data[a]!));
        y.data[o]! += p;
      });
      return [y];
    }
    case 'LRN': {
      const X = x();
      const d = lrnDivisor(node, X);
      const beta = attrFloat(node, 'beta', 0.75);
      return [map1(X, (v, i) => v * d[i]! ** -beta)];
    }
    default:
      throw new Error(`node '${node.name}': op ${node.op} is not supported by the eager reference`);
  }
}

function inputDims(graph: Graph): number[] {
  const inp = graph.inputs[0];
  if (!inp) throw new Error('the graph has no input');
  return inp.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`the graph input '${inp.name}' has a symbolic dimension '${d}'`);
    return d;
  });
}

/**
 * Evaluates every node of `graph` in order on `input` (the graph's single input, in its static
 * shape). Returns every tensor by name: the input, the initializers (as Float64) and each node output.
 * Where shape inference recorded a shape in `graph.values`, the computed shape must agree with it.
 */
export function forward(graph: Graph, input: ArrayLike<number>): Map<string, RefTensor> {
  const vals = new Map<string, RefTensor>();
  for (const [name, t] of graph.initializers) vals.set(name, tensor([...t.dims], Float64Array.from(toNumbers(t))));
  const inp = graph.inputs[0]!;
  vals.set(inp.name, tensor(inputDims(graph), Float64Array.from(input)));
  for (const node of graph.nodes) {
    const ins: Ins = node.inputs.map((n) => {
      if (!n) return undefined;
      const t = vals.get(n);
      if (!t) throw new Error(`node '${node.name}' (${node.op}): input '${n}' is not computed yet`);
      return t;
    });
    const outs = evalNode(node, ins);
    node.outputs.forEach((o, i) => {
      if (!o) return;
      const t = outs[i];
      if (!t) throw new Error(`node '${node.name}' (${node.op}): output ${i} was not computed`);
      const known = graph.values.get(o)?.shape;
      if (known && !sameDims(known as number[], t.dims)) {
        throw new Error(`node '${node.name}' (${node.op}): output '${o}' has shape [${t.dims}] but graph.values says [${known}]`);
      }
      vals.set(o, t);
    });
  }
  return vals;
}

// ───────────────────────────── backward ─────────────────────────────

/** The rule at a rectifier: R·f'(x), max(0,R) or max(0,R)·f'(x). */
function rectifier(method: RefMethod, R: Float64Array, local: (i: number) => number): Float64Array {
  const dx = new Float64Array(R.length);
  for (let i = 0; i < R.length; i++) {
    const r = R[i]!;
    if (method === 'gradient') dx[i] = r * local(i);
    else if (method === 'deconvnet') dx[i] = r > 0 ? r : 0;
    else dx[i] = r > 0 ? r * local(i) : 0;
  }
  return dx;
}

/** Elementwise R·f'(i) (the true derivative, same in every method). */
function chain(R: Float64Array, local: (i: number) => number): Float64Array {
  return Float64Array.from(R, (r, i) => r * local(i));
}

/** Vector–Jacobian products of `node` for its inputs (undefined where the input is a constant nobody differentiates). */
function backNode(node: Node, ins: Ins, outs: RefTensor[], gOut: Float64Array[], method: RefMethod): (Float64Array | undefined)[] {
  const x = (): RefTensor => need(node, ins, 0);
  const R = gOut[0]!;
  const y = outs[0]!;
  switch (node.op) {
    case 'Identity': case 'Flatten': case 'Reshape': case 'Squeeze': case 'Unsqueeze':
      return [Float64Array.from(R)];
    case 'Conv':
      return [convBackward(node, x(), need(node, ins, 1), R)];
    case 'Gemm': {
      const A = x(), B = need(node, ins, 1), Cc = ins[2];
      const p = gemmParams(node, A, B);
      const dA = new Float64Array(A.data.length), dB = new Float64Array(B.data.length);
      for (let i = 0; i < p.M; i++)
        for (let j = 0; j < p.N; j++) {
          const r = p.alpha * R[i * p.N + j]!;
          for (let k = 0; k < p.K; k++) {
            dA[p.aAt(i, k)]! += r * B.data[p.bAt(k, j)]!;
            dB[p.bAt(k, j)]! += r * A.data[p.aAt(i, k)]!;
          }
        }
      let dC: Float64Array | undefined;
      if (Cc) {
        dC = new Float64Array(Cc.data.length);
        const off = broadcastOffsets([p.M, p.N], Cc.dims);
        for (let k = 0; k < R.length; k++) dC[off[k]!]! += p.beta * R[k]!;
      }
      return [dA, dB, dC];
    }
    case 'MatMul': {
      const A = x(), B = need(node, ins, 1);
      const p = matmulPlan(node, A.dims, B.dims);
      const dA = new Float64Array(A.data.length), dB = new Float64Array(B.data.length);
      const nb = numel(p.batch);
      for (let bi = 0; bi < nb; bi++) {
        const a0 = p.offA[bi]! * p.M * p.K, b0 = p.offB[bi]! * p.K * p.N, y0 = bi * p.M * p.N;
        for (let i = 0; i < p.M; i++)
          for (let j = 0; j < p.N; j++) {
            const r = R[y0 + i * p.N + j]!;
            for (let k = 0; k < p.K; k++) {
              dA[a0 + i * p.K + k]! += r * B.data[b0 + k * p.N + j]!;
              dB[b0 + k * p.N + j]! += r * A.data[a0 + i * p.K + k]!;
            }
          }
      }
      return [dA, dB];
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Sum': {
      const parts = ins.map((_, i) => need(node, ins, i));
      const offs = parts.map((t) => broadcastOffsets(y.dims, t.dims));
      const grads = parts.map((t) => new Float64Array(t.data.length));
      for (let k = 0; k < R.length; k++) {
        const r = R[k]!;
        if (node.op === 'Add' || node.op === 'Sum') {
          parts.forEach((_, j) => (grads[j]![offs[j]![k]!]! += r));
        } else if (node.op === 'Sub') {
          grads[0]![offs[0]![k]!]! += r;
          grads[1]![offs[1]![k]!]! -= r;
        } else {
          const a = parts[0]!.data[offs[0]![k]!]!, b = parts[1]!.data[offs[1]![k]!]!;
          if (node.op === 'Mul') {
            grads[0]![offs[0]![k]!]! += r * b;
            grads[1]![offs[1]![k]!]! += r * a;
          } else {
            grads[0]![offs[0]![k]!]! += r / b;
            grads[1]![offs[1]![k]!]! -= (r * a) / (b * b);
          }
        }
      }
      return grads;
    }
    case 'Relu': {
      const X = x();
      return [rectifier(method, R, (i) => (X.data[i]! > 0 ? 1 : 0))];
    }
    case 'LeakyRelu': {
      const X = x();
      const alpha = attrFloat(node, 'alpha', 0.01);
      return [rectifier(method, R, (i) => (X.data[i]! > 0 ? 1 : alpha))];
    }
    case 'PRelu': {
      const X = x();
      const slope = preluSlope(node, X, need(node, ins, 1));
      return [rectifier(method, R, (i) => (X.data[i]! > 0 ? 1 : slope[i]!))];
    }
    case 'Clip': {
      const X = x();
      const { lo, hi } = clipBounds(ins);
      const local = (i: number): number => (X.data[i]! > lo && X.data[i]! < hi ? 1 : 0);
      // Clip with min 0 (ReLU6, or a ReLU written as Clip) is a rectifier; other clips are not.
      return [lo === 0 ? rectifier(method, R, local) : chain(R, local)];
    }
    case 'Sigmoid':
      return [chain(R, (i) => y.data[i]! * (1 - y.data[i]!))];
    case 'Tanh':
      return [chain(R, (i) => 1 - y.data[i]! * y.data[i]!)];
    case 'HardSigmoid': {
      const X = x();
      const alpha = attrFloat(node, 'alpha', 0.2), beta = attrFloat(node, 'beta', 0.5);
      return [chain(R, (i) => {
        const v = alpha * X.data[i]! + beta;
        return v > 0 && v < 1 ? alpha : 0;
      })];
    }
    case 'HardSwish': {
      const X = x();
      // PyTorch's hardswish_backward: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above.
      return [chain(R, (i) => {
        const v = X.data[i]!;
        return v < -3 ? 0 : v <= 3 ? v / 3 + 0.5 : 1;
      })];
    }
    case 'MaxPool': {
      const X = x();
      const { switches } = maxPoolSwitches(node, X);
      return [scatterBy(X.data.length, switches, R)];
    }
    case 'AveragePool': {
      const X = x();
      const dx = new Float64Array(X.data.length);
      avgPoolWindows(node, X).visit((o, i, wt) => (dx[i]! += wt * R[o]!));
      return [dx];
    }
    case 'GlobalAveragePool': {
      const X = x();
      const inner = numel(X.dims.slice(2));
      return [Float64Array.from(X.data, (_, i) => R[Math.floor(i / inner)]! / inner)];
    }
    case 'GlobalMaxPool': {
      const X = x();
      const inner = numel(X.dims.slice(2));
      const dx = new Float64Array(X.data.length);
      for (let nc = 0; nc < R.length; nc++) {
        let arg = nc * inner;
        for (let s = 1; s < inner; s++) if (X.data[nc * inner + s]! > X.data[arg]!) arg = nc * inner + s;
        dx[arg] = R[nc]!;
      }
      return [dx];
    }
    case 'Concat': {
      const parts = ins.map((_, i) => need(node, ins, i));
      const axis = normAxis(attrInt(node, 'axis', 0), y.dims.length);
      const outer = numel(y.dims.slice(0, axis));
      const grads = parts.map((t) => new Float64Array(t.data.length));
      let at = 0;
      for (let o = 0; o < outer; o++)
        parts.forEach((t, j) => {
          const chunk = numel(t.dims.slice(axis));
          for (let k = 0; k < chunk; k++) grads[j]![o * chunk + k] = R[at++]!;
        });
      return grads;
    }
    case 'Split': {
      const X = x();
      const { axis, sizes } = splitSizes(node, X, ins);
      const outer = numel(X.dims.slice(0, axis));
      const inner = numel(X.dims.slice(axis + 1));
      const d = X.dims[axis]!;
      const dx = new Float64Array(X.data.length);
      let start = 0;
      sizes.forEach((s, j) => {
        const g = gOut[j]!;
        for (let o = 0; o < outer; o++)
          for (let a = 0; a < s; a++)
            for (let k = 0; k < inner; k++) dx[(o * d + start + a) * inner + k] = g[(o * s + a) * inner + k]!;
        start += s;
      });
      return [dx];
    }
    case 'Slice':
      return [scatterBy(x().data.length, sliceMap(node, x(), ins).map, R)];
    case 'Pad':
      return [scatterBy(x().data.length, padMap(node, x(), ins).map, R)];
    case 'Transpose':
      return [scatterBy(x().data.length, transposeMap(node, x()).map, R)];
    case 'BatchNormalization': {
      const X = x();
      const { scale, inner } = bnScaleShift(node, X, ins);
      const C = X.dims[1]!;
      return [chain(R, (i) => scale[Math.floor(i / inner) % C]!)];
    }
    case 'Softmax': {
      const { outer, len, inner } = softmaxAxis(node, y);
      const dx = new Float64Array(R.length);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          const at = (a: number): number => (o * len + a) * inner + k;
          let dot = 0;
          for (let a = 0; a < len; a++) dot += R[at(a)]! * y.data[at(a)]!;
          for (let a = 0; a < len; a++) dx[at(a)] = y.data[at(a)]! * (R[at(a)]! - dot);
        }
      return [dx];
    }
    case 'ReduceMean': case 'ReduceSum': case 'ReduceSumSquare': case 'ReduceL2': case 'ReduceMax': case 'ReduceMin':
      return [reduceBackward(node, x(), y, ins, R)];
    case 'Erf': {
      const X = x();
      return [chain(R, (i) => (2 / Math.sqrt(Math.PI)) * Math.exp(-X.data[i]! * X.data[i]!))];
    }
    case 'Exp':
      return [chain(R, (i) => y.data[i]!)];
    case 'Log': {
      const X = x();
      return [chain(R, (i) => 1 / X.data[i]!)];
    }
    case 'Sqrt':
      return [chain(R, (i) => 0.5 / y.data[i]!)];
    case 'Reciprocal':
      return [chain(R, (i) => -y.data[i]! * y.data[i]!)];
    case 'Neg':
      return [chain(R, () => -1)];
    case 'Abs': {
      const X = x();
      return [chain(R, (i) => Math.sign(X.data[i]!))];
    }
    case 'Sin': {
      const X = x();
      return [chain(R, (i) => Math.cos(X.data[i]!))];
    }
    case 'Cos': {
      const X = x();
      return [chain(R, (i) => -Math.sin(X.data[i]!))];
    }
    case 'Softplus': {
      const X = x();
      return [chain(R, (i) => sigmoid(X.data[i]!))];
    }
    case 'Elu': {
      const X = x();
      const alpha = attrFloat(node, 'alpha', 1);
      return [chain(R, (i) => (X.data[i]! > 0 ? 1 : y.data[i]! + alpha))];
    }
    case 'Pow': {
      const A = x(), B = need(node, ins, 1);
      const oa = broadcastOffsets(y.dims, A.dims), ob = broadcastOffsets(y.dims, B.dims);
      // d/da a^b = b·a^(b−1); d/db a^b = a^b·ln a (each summed over the axes it was broadcast along).
      const da = unbroadcastSum(R, y.dims, A.dims, (k) => {
        const a = A.data[oa[k]!]!, b = B.data[ob[k]!]!;
        return b === 0 ? 0 : b * Math.pow(a, b - 1);
      });
      const db = unbroadcastSum(R, y.dims, B.dims, (k) => y.data[k]! * Math.log(A.data[oa[k]!]!));
      return [da, db];
    }
    case 'Cast': case 'Dropout':
      return [Float64Array.from(R)];
    case 'LogSoftmax': {
      const { outer, len, inner } = softmaxAxis(node, y);
      const dx = new Float64Array(R.length);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          const at = (a: number): number => (o * len + a) * inner + k;
          let total = 0;
          for (let a = 0; a < len; a++) total += R[at(a)]!;
          for (let a = 0; a < len; a++) dx[at(a)] = R[at(a)]! - Math.exp(y.data[at(a)]!) * total;
        }
      return [dx];
    }
    case 'LayerNormalization': case 'InstanceNormalization': case 'GroupNormalization':
      return [normBackward(node, x(), ins, R)];
    case 'Gelu': {
      const X = x();
      const k = Math.sqrt(2 / Math.PI);
      if (attrString(node, 'approximate', 'none') === 'tanh') {
        return [chain(R, (i) => {
          const v = X.data[i]!, t = Math.tanh(k * (v + 0.044715 * v ** 3));
          return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * 0.044715 * v * v);
        })];
      }
      // Φ(x) + x·φ(x)
      return [chain(R, (i) => {
        const v = X.data[i]!;
        return 0.5 * (1 + erf(v / Math.SQRT2)) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI);
      })];
    }
    case 'Einsum': {
      const ops = ins.map((_, i) => need(node, ins, i));
      const grads = ops.map((t) => new Float64Array(t.data.length));
      einsumTerms(attrString(node, 'equation', ''), ops.map((t) => t.dims)).visit((o, at) => {
        at.forEach((a, i) => {
          let p = R[o]!;
          at.forEach((b, j) => j !== i && (p *= ops[j]!.data[b]!));
          grads[i]![a]! += p;
        });
      });
      return grads;
    }
    case 'LRN': {
      // y_i = x_i d_i^(−β): dy_j/dx_i = δ_ij d_i^(−β) − β x_j d_j^(−β−1) · (2α/size) x_i [i ∈ win(j)].
      const X = x();
      const d = lrnDivisor(node, X);
      const { alpha, beta, size, lo, hi } = lrnParams(node);
      const [N, C, H, W] = X.dims as [number, number, number, number];
      const dx = new Float64Array(R.length);
      for (let n = 0; n < N; n++)
        for (let j = 0; j < C; j++)
          for (let p = 0; p < H * W; p++) {
            const J = (n * C + j) * H * W + p;
            dx[J]! += R[J]! * d[J]! ** -beta;
            const common = -beta * R[J]! * X.data[J]! * d[J]! ** (-beta - 1) * ((2 * alpha) / size);
            for (let i = Math.max(0, j - lo); i <= Math.min(C - 1, j + hi); i++) {
              const I = (n * C + i) * H * W + p;
              dx[I]! += common * X.data[I]!;
            }
          }
      return [dx];
    }
    case 'Gather':
      return [scatterBy(x().data.length, gatherMap(node, x(), need(node, ins, 1)).map, R)];
    case 'Expand':
      return [scatterBy(x().data.length, expandMap(node, x(), need(node, ins, 1)).map, R)];
    case 'Tile':
      return [scatterBy(x().data.length, tileMap(node, x(), need(node, ins, 1)).map, R)];
    case 'Where': {
      const Cd = x(), A = need(node, ins, 1), B = need(node, ins, 2);
      const oc = broadcastOffsets(y.dims, Cd.dims);
      const taken = (k: number): boolean => Cd.data[oc[k]!]! !== 0;
      return [undefined, unbroadcastSum(R, y.dims, A.dims, (k) => (taken(k) ? 1 : 0)), unbroadcastSum(R, y.dims, B.dims, (k) => (taken(k) ? 0 : 1))];
    }
    default:
      throw new Error(`node '${node.name}': op ${node.op} has no backward in the eager reference`);
  }
}

/** Tensors that depend on the graph input. */
function dependsOnInput(graph: Graph): Set<string> {
  const live = new Set([graph.inputs[0]!.name]);
  for (const n of graph.nodes) if (n.inputs.some((i) => i && live.has(i))) for (const o of n.outputs) if (o) live.add(o);
  return live;
}

/**
 * Propagates `seed` (on the graph output, the logits' shape) back to the graph input with the rules
 * of `method`, given the tensors of `forward(graph, input)`. Signals meeting at a tensor are summed.
 * Returns the signal at the graph input.
 */
export function backward(graph: Graph, fwd: Map<string, RefTensor>, seed: ArrayLike<number>, method: RefMethod): Float64Array {
  const live = dependsOnInput(graph);
  const outName = graph.outputs[0]!.name;
  const out = fwd.get(outName);
  if (!out) throw new Error(`the forward pass has no output '${outName}'`);
  if (seed.length !== out.data.length) throw new Error(`the seed has ${seed.length} values but the output [${out.dims}] has ${out.data.length}`);
  const grads = new Map<string, Float64Array>([[outName, Float64Array.from(seed)]]);
  const add = (name: string, g: Float64Array): void => {
    const have = grads.get(name);
    if (!have) grads.set(name, Float64Array.from(g));
    else for (let i = 0; i < g.length; i++) have[i]! += g[i]!;
  };
  for (let ni = graph.nodes.length - 1; ni >= 0; ni--) {
    const node = graph.nodes[ni]!;
    if (!node.outputs.some((o) => o && grads.has(o))) continue;
    const ins = node.inputs.map((n) => (n ? fwd.get(n) : undefined));
    const outs = node.outputs.map((o) => (o ? fwd.get(o) : undefined) ?? { dims: [0], data: new Float64Array(0) });
    const gOut = node.outputs.map((o, i) => (o ? grads.get(o) : undefined) ?? new Float64Array(outs[i]!.data.length));
    const gIn = backNode(node, ins, outs, gOut, method);
    node.inputs.forEach((name, i) => {
      if (!name || !live.has(name)) return;
      const g = gIn[i];
      if (!g) throw new Error(`node '${node.name}' (${node.op}): no backward for input ${i} ('${name}'), which depends on the graph input`);
      add(name, g);
    });
  }
  const inp = graph.inputs[0]!.name;
  return grads.get(inp) ?? new Float64Array(fwd.get(inp)!.data.length);
}

/**
 * Central finite differences of seed · output with respect to every input element, on the Float64
 * forward pass: 2 forward passes per input element, so for tiny graphs only.
 */
export function finiteDiffGradient(graph: Graph, input: ArrayLike<number>, seed: ArrayLike<number>, eps = 1e-4): Float64Array {
  const outName = graph.outputs[0]!.name;
  const score = (x: Float64Array): number => {
    const y = forward(graph, x).get(outName)!.data;
    let s = 0;
    for (let i = 0; i < y.length; i++) s += seed[i]! * y[i]!;
    return s;
  };
  const x = Float64Array.from(input);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + eps;
    const up = score(x);
    x[i] = v - eps;
    const down = score(x);
    x[i] = v;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** ||a − b||₂ / ||b||₂ (0 when both are 0). */
export function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}
