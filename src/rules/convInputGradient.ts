/**
 * The input gradient of a Conv: a transposed convolution with the same weights. With stride 1 it is
 * emitted as a plain Conv over spatially flipped, in/out-transposed weights (precomputed once per
 * compile), which onnxruntime runs much faster than ConvTranspose. Strided depthwise convs (as in
 * MobileNets) insert zeros between the signal's pixels (a nearest-neighbour Resize times a 0/1
 * lattice) and run a stride-1 depthwise Conv, since onnxruntime's grouped ConvTranspose loops over
 * the groups. Other strided convs use ConvTranspose, whose one GEMM per group does no work on the
 * zeros. Used by the gradient of conv.ts and by the LRP rules (linearOps.ts).
 * Design history: docs/design/strided-conv-backward.md
 */
import { windowAttributes } from '../ir/convGeometry.js';
import { asFloat32, float32, type Tensor } from '../ir/tensor.js';
import { refuse } from './signal.js';
import type { RuleContext } from './types.js';

/** W [Cout, Cin/g, k…] → W' [Cin, Cout/g, k…] with every kernel flipped in all spatial axes. */
export function flipTransposeWeight(w: Tensor, group: number): Tensor {
  const [cout, cinG, ...k] = w.dims as [number, number, ...number[]];
  const ks = k.reduce((a, b) => a * b, 1);
  const coutG = cout / group;
  const src = asFloat32(w);
  const dst = new Float32Array(src.length);
  for (let g = 0; g < group; g++) {
    for (let o = 0; o < coutG; o++) {
      for (let i = 0; i < cinG; i++) {
        const from = ((g * coutG + o) * cinG + i) * ks;
        const to = ((g * cinG + i) * coutG + o) * ks;
        // Reversing the flat kernel index flips every spatial axis at once.
        for (let s = 0; s < ks; s++) dst[to + s] = src[from + ks - 1 - s]!;
      }
    }
  }
  return { dtype: 'float32', dims: [cinG * group, coutG, ...k], data: dst };
}

export interface ConvGeometry {
  strides: number[];
  dilations: number[];
  pads: number[];
  kernel: number[];
  group: number;
}

/** The Conv's window, its kernel from the weight's shape. */
export function convGeometry(ctx: RuleContext): ConvGeometry {
  const { node } = ctx;
  const w = ctx.shape(node.inputs[1]!);
  const { strides, dilations, pads, group } = windowAttributes(node, w.length - 2);
  return { kernel: w.slice(2), strides, dilations, pads, group };
}

/**
 * The transposed convolution of `signal` (shape of the conv output, K-major) back to the shape of
 * the conv input, with weights `weight` ([Cout, Cin/g, k…] as in the forward Conv).
 */
export function convInputGradient(ctx: RuleContext, signal: string, weightName: string, weight: Tensor | undefined): string {
  const { node, emit } = ctx;
  const geo = convGeometry(ctx);
  const xs = ctx.shape(node.inputs[0]!);
  const ys = ctx.shape(node.outputs[0]!);
  const r = geo.kernel.length;
  // As a correlation with the flipped kernel over the signal (stride 1) or over the signal with
  // zeros inserted (length s·out per axis): the start padding is d·(k−1) − pad, the end padding what
  // brings the input size back (at stride 1 that is d·(k−1) − end pad).
  const pads = [
    ...geo.pads.slice(0, r).map((p, i) => geo.dilations[i]! * (geo.kernel[i]! - 1) - p),
    ...xs.slice(2).map((x, i) => x + geo.pads[i]! - geo.strides[i]! * ys[2 + i]!),
  ];
  const stride1 = geo.strides.every((s) => s === 1);
  const depthwise = r === 2 && geo.group > 1 && weight?.dims[1] === 1;
  // A computed weight (meta-saliency's updated network) cannot be flipped once per compile.
  if (weight && (stride1 || depthwise) && pads.every((p) => p >= 0)) {
    const wt = emit.constant(flipTransposeWeight(weight, geo.group), `${node.name}/w_flipT`);
    const input = stride1 ? signal : insertZeros(ctx, signal, geo.strides, ys.slice(2));
    return emit.op('Conv', [input, wt], { pads, dilations: geo.dilations, group: geo.group, kernel_shape: geo.kernel }, 'ConvT');
  }
  // output = s·(in−1) + op + d·(k−1) + 1 − pads: choose output_padding so the input size comes back.
  const outputPadding = xs.slice(2).map((x, i) => x - (geo.strides[i]! * (ys[2 + i]! - 1) + geo.dilations[i]! * (geo.kernel[i]! - 1) + 1 - geo.pads[i]! - geo.pads[i + r]!));
  if (outputPadding.some((p, i) => p < 0 || p >= Math.max(geo.strides[i]!, geo.dilations[i]!))) {
    refuse(ctx, `cannot invert the convolution geometry (input [${xs}], output [${ys}])`);
  }
  const out = emit.op('ConvTranspose', [signal, weightName], {
    strides: geo.strides, dilations: geo.dilations, pads: geo.pads, group: geo.group, kernel_shape: geo.kernel, output_padding: outputPadding,
  });
  return out;
}

/**
 * The signal [n, c, h, w] spread to [n, c, sh·h, sw·w] with its values at multiples of the strides
 * and zeros between: nearest-neighbour upsampling, then a product with a 0/1 lattice (exact).
 */
function insertZeros(ctx: RuleContext, signal: string, strides: readonly number[], size: readonly number[]): string {
  const { emit } = ctx;
  const [sh, sw] = strides as [number, number];
  const [h, w] = [size[0]! * sh, size[1]! * sw];
  const lattice = new Float32Array(h * w);
  for (let i = 0; i < h; i += sh) for (let j = 0; j < w; j += sw) lattice[i * w + j] = 1;
  const scales = emit.constant(float32([4], [1, 1, sh, sw]), 'scales');
  const up = emit.op('Resize', [signal, '', scales], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'upsample');
  return emit.op('Mul', [up, emit.constant(float32([1, 1, h, w], lattice), 'lattice')], {}, 'insertZeros');
}
