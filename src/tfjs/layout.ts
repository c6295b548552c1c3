/**
 * TensorFlow's NHWC layout and the IR's NCHW (ONNX) layout: the axis maps and weight permutations
 * the TF.js importers share. A TF model keeps its NHWC input; inside, 4-D activations are computed
 * NCHW so that Conv, pooling and BatchNormalization are the IR's own ops (docs/design/tfjs.md).
 */
import { fromNumbers, sizeOf, toNumbers, type Tensor } from '../ir/tensor.js';

/** Transpose permutation NHWC → NCHW (as ONNX Transpose's `perm`). */
export const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
/** Transpose permutation NCHW → NHWC. */
export const NCHW_TO_NHWC = [0, 2, 3, 1] as const;

/** Where NHWC axis `a` (0…3, negative counts from the end) sits in NCHW. */
export function nhwcAxisInNchw(a: number): number {
  const axis = a < 0 ? a + 4 : a;
  return [0, 2, 3, 1][axis]!;
}

/** A tensor's data permuted: out.dims[i] = t.dims[perm[i]]. */
export function permuteTensor(t: Tensor, perm: readonly number[]): Tensor {
  const rank = t.dims.length;
  if (perm.length !== rank) throw new Error(`permutation [${perm.join(', ')}] does not fit a tensor of rank ${rank}`);
  const dims = perm.map((p) => t.dims[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= t.dims[i]!;
  }
  const src = toNumbers(t);
  const out = new Array<number>(src.length);
  const idx = new Array<number>(rank).fill(0);
  const n = sizeOf(dims);
  for (let o = 0; o < n; o++) {
    let from = 0;
    for (let i = 0; i < rank; i++) from += idx[i]! * inStrides[perm[i]!]!;
    out[o] = src[from]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < dims[i]!) break;
      idx[i] = 0;
    }
  }
  return fromNumbers(t.dtype === 'float16' ? 'float32' : t.dtype, dims, out);
}

/** A TF Conv2D filter [H, W, in, out] as an ONNX Conv weight [out, in, H, W]. */
export function hwioToOihw(filter: Tensor): Tensor {
  return permuteTensor(filter, [3, 2, 0, 1]);
}

/**
 * A TF depthwise filter [H, W, C, M] as the weight of an ONNX Conv with group = C: [C·M, 1, H, W],
 * output channel c·M + m (TF's order of the depthwise outputs).
 */
export function depthwiseToOihw(filter: Tensor): Tensor {
  const [h, w, c, m] = filter.dims as [number, number, number, number];
  const t = permuteTensor(filter, [2, 3, 0, 1]);
  return { ...t, dims: [c * m, 1, h, w] };
}

/**
 * A constant that broadcasts against an NHWC tensor, rewritten to broadcast the same way against
 * the NCHW copy: right-aligned to rank 4, then permuted ([C] becomes [1, C, 1, 1]).
 */
export function broadcastConstToNchw(t: Tensor): Tensor {
  if (sizeOf(t.dims) === 1) return t;
  const dims = [...new Array<number>(4 - t.dims.length).fill(1), ...t.dims];
  return permuteTensor({ ...t, dims }, NHWC_TO_NCHW);
}
