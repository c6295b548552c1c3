/**
 * Resize (and Upsample, rewritten to Resize at import) with nearest or linear interpolation: a
 * linear map, separable over the axes, Y = X ×_h A_h ×_w A_w with A_d [out_d, in_d] built from
 * the op's coordinate transformation (ONNX's definitions). The backward applies the transposes, as
 * MatMuls with constant matrices; LRP shares relevance in proportion to each input's contribution
 * (the z-rule, as average pooling: Resize has no bias).
 */
import { attrString } from '../ir/graph.js';
import { float32, toNumbers } from '../ir/tensor.js';
import { proportionalThrough } from './relevance.js';
import { refuse } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/** The input coordinate that output coordinate `x` reads, per coordinate_transformation_mode. */
function sourceCoordinate(ctx: RuleContext, mode: string, x: number, scale: number, inLen: number, outLen: number): number {
  switch (mode) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel': return outLen > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners': return outLen === 1 ? 0 : (x * (inLen - 1)) / (outLen - 1);
    case 'asymmetric': return x / scale;
    case 'tf_half_pixel_for_nn': return (x + 0.5) / scale;
    default: return refuse(ctx, `coordinate_transformation_mode '${mode}' is not supported`);
  }
}

function nearestIndex(ctx: RuleContext, mode: string, v: number): number {
  switch (mode) {
    case 'round_prefer_floor': return v === Math.floor(v) + 0.5 ? Math.floor(v) : Math.round(v);
    case 'round_prefer_ceil': return Math.round(v);
    case 'floor': return Math.floor(v);
    case 'ceil': return Math.ceil(v);
    default: return refuse(ctx, `nearest_mode '${mode}' is not supported`);
  }
}

/** The interpolation matrix [out, in] of one axis. */
export function interpolationMatrix(ctx: RuleContext, inLen: number, outLen: number, scale: number): Float32Array {
  const { node } = ctx;
  const mode = attrString(node, 'mode', 'nearest');
  const transform = attrString(node, 'coordinate_transformation_mode', 'half_pixel');
  const a = new Float32Array(outLen * inLen);
  for (let o = 0; o < outLen; o++) {
    const x = sourceCoordinate(ctx, transform, o, scale, inLen, outLen);
    if (mode === 'nearest') {
      const i = Math.min(Math.max(nearestIndex(ctx, attrString(node, 'nearest_mode', 'round_prefer_floor'), x), 0), inLen - 1);
      a[o * inLen + i] = 1;
    } else if (mode === 'linear') {
      const c = Math.min(Math.max(x, 0), inLen - 1);
      const i0 = Math.floor(c);
      const i1 = Math.min(i0 + 1, inLen - 1);
      const w1 = c - i0;
      a[o * inLen + i0]! += 1 - w1;
      a[o * inLen + i1]! += w1;
    } else refuse(ctx, `mode '${mode}' is not supported (nearest and linear are)`);
  }
  return a;
}

/** Per axis: the scale of the resize (sizes / input length where sizes are given). */
function scales(ctx: RuleContext, xs: readonly number[], ys: readonly number[]): number[] {
  const s = ctx.node.inputs[2] ? ctx.constant(ctx.node.inputs[2]) : undefined;
  const values = s ? toNumbers(s) : [];
  return values.length === xs.length ? values : xs.map((d, i) => ys[i]! / d);
}

function gradient(ctx: RuleContext): (string | undefined)[] {
  const { node, emit } = ctx;
  if (attrString(node, 'coordinate_transformation_mode', 'half_pixel') === 'tf_crop_and_resize') refuse(ctx, 'tf_crop_and_resize is not supported');
  const xs = ctx.shape(node.inputs[0]!);
  const ys = ctx.shape(node.outputs[0]!);
  const r = xs.length;
  const sc = scales(ctx, xs, ys);
  for (let d = 0; d < r - 2; d++) if (xs[d] !== ys[d]) refuse(ctx, 'only the last two axes may be resized');
  let signal = ctx.signals[0]!;
  // Last axis: Ȳ [.., H', W'] · A_w [W', W].
  if (xs[r - 1] !== ys[r - 1] || sc[r - 1] !== 1) {
    const a = interpolationMatrix(ctx, xs[r - 1]!, ys[r - 1]!, sc[r - 1]!);
    signal = emit.op('MatMul', [signal, emit.constant(float32([ys[r - 1]!, xs[r - 1]!], a), `${node.name}/resizeW`)], {}, 'unresizeW');
  }
  // Second to last: A_hᵀ [H, H'] · Z [.., H', W].
  if (r >= 2 && (xs[r - 2] !== ys[r - 2] || sc[r - 2] !== 1)) {
    const a = interpolationMatrix(ctx, xs[r - 2]!, ys[r - 2]!, sc[r - 2]!);
    const t = new Float32Array(a.length);
    const [o, i] = [ys[r - 2]!, xs[r - 2]!];
    for (let p = 0; p < o; p++) for (let q = 0; q < i; q++) t[q * o + p] = a[p * i + q]!;
    signal = emit.op('MatMul', [emit.constant(float32([i, o], t), `${node.name}/resizeHT`), signal], {}, 'unresizeH');
  }
  return [signal, ...node.inputs.slice(1).map(() => undefined)];
}

export const resize: OpRules = { gradient, lrp: (ctx) => proportionalThrough(ctx, gradient) };
