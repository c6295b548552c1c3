/**
 * AveragePool: each output spreads its signal evenly over its window. With a constant divisor
 * (count_include_pad, or no padding) this is a depthwise ConvTranspose with weights 1/|window|;
 * otherwise the signal is first divided by each window's count of real (unpadded) inputs.
 */
import { windowAttributes } from '../ir/convGeometry.js';
import { attrInt } from '../ir/graph.js';
import { float32 } from '../ir/tensor.js';
import { proportionalThrough } from './relevance.js';
import { refuse } from './signal.js';
import type { OpRules } from './types.js';

/** Number of unpadded input positions under each output window along one axis. */
function counts(inSize: number, outSize: number, k: number, s: number, padBegin: number): number[] {
  return Array.from({ length: outSize }, (_, o) => {
    const start = o * s - padBegin;
    return Math.max(0, Math.min(start + k, inSize) - Math.max(start, 0));
  });
}

export const averagePool: OpRules = {
  lrp: (ctx) => proportionalThrough(ctx, averagePool.gradient),
  gradient(ctx) {
    const { node, emit } = ctx;
    const xs = ctx.shape(node.inputs[0]!);
    const ys = ctx.shape(node.outputs[0]!);
    if (xs.length !== 4) refuse(ctx, 'only 2-D average pooling is supported');
    const { kernel: k, strides, pads } = windowAttributes(node, 2);
    const kernel = k!;
    const includePad = attrInt(node, 'count_include_pad', 0) === 1;
    const c = xs[1]!;
    const area = kernel[0]! * kernel[1]!;
    const padded = pads.some((p) => p !== 0);
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    let signal = ctx.signals[0]!;
    let weight = 1 / area;
    if ((padded && !includePad) || ceil) {
      // Divisors vary at the borders: divide by the per-window count, then spread with weight 1.
      const ch = counts(xs[2]!, ys[2]!, kernel[0]!, strides[0]!, pads[0]!);
      const cw = counts(xs[3]!, ys[3]!, kernel[1]!, strides[1]!, pads[1]!);
      const ph = includePad ? counts(xs[2]! + pads[0]! + pads[2]!, ys[2]!, kernel[0]!, strides[0]!, 0) : ch;
      const pw = includePad ? counts(xs[3]! + pads[1]! + pads[3]!, ys[3]!, kernel[1]!, strides[1]!, 0) : cw;
      const inv = new Float32Array(ys[2]! * ys[3]!);
      for (let i = 0; i < ys[2]!; i++) for (let j = 0; j < ys[3]!; j++) inv[i * ys[3]! + j] = 1 / (ph[i]! * pw[j]!);
      signal = emit.op('Mul', [signal, emit.constant(float32([ys[2]!, ys[3]!], inv), `${node.name}/invCount`)]);
      weight = 1;
    }
    const w = emit.constant(float32([c, 1, kernel[0]!, kernel[1]!], new Array<number>(c * area).fill(weight)), `${node.name}/spread`);
    // Output size of the transposed conv is s·(out−1) + k − pads; make it the input size. A ceil_mode
    // window reaching past the padded input would make it larger: crop that excess as end padding.
    const excess = [0, 1].map((i) => strides[i]! * (ys[2 + i]! - 1) + kernel[i]! - pads[i]! - pads[i + 2]! - xs[2 + i]!);
    const outputPadding = excess.map((e) => Math.max(0, -e));
    const spreadPads = [pads[0]!, pads[1]!, pads[2]! + Math.max(0, excess[0]!), pads[3]! + Math.max(0, excess[1]!)];
    return [emit.op('ConvTranspose', [signal, w], { strides, pads: spreadPads, group: c, kernel_shape: kernel, output_padding: outputPadding }, 'unAvgPool')];
  },
};
