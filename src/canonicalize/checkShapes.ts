/**
 * Checks that need the shapes inferred at specialization, in the style of src/onnx/validate.ts (one
 * line naming the node and what was expected).
 */
import { BacklightError } from '../errors.js';
import { attrInt, type Node } from '../ir/graph.js';
import type { Window } from '../ir/shapes.js';

const BN_PARAMS = ['scale', 'B', 'mean', 'var'] as const;

/**
 * Window geometry once the input shape is known: attribute lengths match the spatial rank, the
 * dilated kernel fits in the padded input, and group divides the channels.
 */
export function checkWindowGeometry(n: Node, input: readonly number[], w: Window, weight?: readonly number[]): void {
  const at = `node '${n.name}' (${n.op})`;
  const spatial = input.slice(2);
  const r = spatial.length;
  const lengths: [string, number[], number][] = [['kernel_shape', w.kernel, r], ['strides', w.strides, r], ['dilations', w.dilations, r], ['pads', w.pads, 2 * r]];
  for (const [name, v, expected] of lengths) {
    if (v.length !== expected) throw new BacklightError(`${at}: ${name} has ${v.length} values; an input of shape [${input.join(', ')}] needs ${expected}`);
  }
  spatial.forEach((x, i) => {
    const extent = w.dilations[i]! * (w.kernel[i]! - 1) + 1;
    const padded = x + w.pads[i]! + w.pads[i + r]!;
    if (extent > padded) {
      throw new BacklightError(`${at}: the dilated kernel spans ${extent} along spatial axis ${i} (kernel ${w.kernel[i]}, dilation ${w.dilations[i]}) but the padded input has ${padded}; it must fit`);
    }
  });
  if (weight && n.op === 'Conv') {
    const group = attrInt(n, 'group', 1);
    if (input[1]! % group !== 0 || weight[0]! % group !== 0) {
      throw new BacklightError(`${at}: group ${group} must divide the input channels (${input[1]}) and the output channels (${weight[0]})`);
    }
  }
}

/** BatchNormalization's parameters have one value per channel of its input. */
export function checkBatchNormChannels(n: Node, input: readonly number[], param: (i: number) => readonly number[] | undefined): void {
  BN_PARAMS.forEach((what, j) => {
    const dims = param(j + 1);
    if (dims && (dims.length !== 1 || dims[0] !== input[1])) {
      throw new BacklightError(`node '${n.name}' (BatchNormalization): ${what} '${n.inputs[j + 1]}' has shape [${dims.join(', ')}]; the input [${input.join(', ')}] has ${input[1]} channels, so it needs [${input[1]}]`);
    }
  });
}

