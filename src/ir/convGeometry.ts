/**
 * The window attributes of Conv and the pooling ops with ONNX's defaults filled in, read in one
 * place. Canonicalization resolves auto_pad into explicit pads (canonicalize/specialize.ts).
 */
import { attrInt, attrInts, type Node } from './graph.js';

export interface WindowAttributes {
  /** kernel_shape when the node has it (a Conv may leave it to its weight's shape). */
  kernel: number[] | undefined;
  strides: number[];
  dilations: number[];
  /** ONNX order: all begins, then all ends. */
  pads: number[];
  group: number;
}

/** The window attributes of a node with `rank` spatial axes. */
export function windowAttributes(node: Node, rank: number): WindowAttributes {
  return {
    kernel: attrInts(node, 'kernel_shape'),
    strides: attrInts(node, 'strides') ?? new Array<number>(rank).fill(1),
    dilations: attrInts(node, 'dilations') ?? new Array<number>(rank).fill(1),
    pads: attrInts(node, 'pads') ?? new Array<number>(2 * rank).fill(0),
    group: attrInt(node, 'group', 1),
  };
}

/** Whether the node's pads are the explicit ones: auto_pad absent, NOTSET or VALID. */
export function padsExplicit(node: Node): boolean {
  const autoPad = node.attrs['auto_pad'];
  return !autoPad || (autoPad.type === 'string' && (autoPad.value === 'NOTSET' || autoPad.value === 'VALID'));
}
