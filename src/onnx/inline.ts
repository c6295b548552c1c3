/**
 * ONNX local functions (ModelProto.functions, written by PyTorch's newer exporter): every call is
 * replaced by the function's body, its tensors renamed under the call's node name and attribute
 * references (`ref_attr_name`) bound to the call's attributes.
 */
import { BacklightError } from '../errors.js';
import type { Attr, Node } from '../ir/graph.js';
import type { OnnxNs } from './proto.js';

export interface FunctionBody {
  inputs: string[];
  outputs: string[];
  attributes: string[];
  nodes: { node: Node; refs: Record<string, string> }[];
}

export type FunctionTable = Map<string, FunctionBody>;

export const functionKey = (domain: string, name: string): string => `${domain}::${name}`;

export function functionTable(
  protos: readonly OnnxNs.IFunctionProto[],
  toNode: (n: OnnxNs.INodeProto, index: number) => Node,
): FunctionTable {
  const table: FunctionTable = new Map();
  for (const f of protos) {
    const nodes = (f.node ?? []).map((n, i) => {
      const refs: Record<string, string> = {};
      for (const a of n.attribute ?? []) if (a.refAttrName) refs[a.name ?? ''] = a.refAttrName;
      return { node: toNode(n, i), refs };
    });
    table.set(functionKey(f.domain ?? '', f.name ?? ''), { inputs: [...(f.input ?? [])], outputs: [...(f.output ?? [])], attributes: [...(f.attribute ?? [])], nodes });
  }
  return table;
}

/** The nodes that replace a call of a local function, recursively (calls inside functions too). */
export function inlineCall(call: Node, table: FunctionTable, source: string, depth = 0): Node[] {
  const body = table.get(functionKey(call.domain, call.op));
  if (!body) return [call];
  if (depth > 32) throw new BacklightError(`${source}: node '${call.name}' (${call.domain}::${call.op}): local functions nest deeper than 32 levels (recursive?)`);
  const rename = new Map<string, string>();
  body.inputs.forEach((name, i) => rename.set(name, call.inputs[i] ?? ''));
  body.outputs.forEach((name, i) => rename.set(name, call.outputs[i] ?? ''));
  const local = (t: string): string => (t === '' ? '' : rename.get(t) ?? `${call.name}/${t}`);
  const out: Node[] = [];
  for (const { node, refs } of body.nodes) {
    const attrs: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(node.attrs)) if (!(k in refs)) attrs[k] = v;
    for (const [k, ref] of Object.entries(refs)) {
      const bound = call.attrs[ref];
      if (bound) attrs[k] = bound;
    }
    const inner: Node = { ...node, name: `${call.name}/${node.name}`, inputs: node.inputs.map(local), outputs: node.outputs.map(local), attrs };
    out.push(...inlineCall(inner, table, source, depth + 1));
  }
  return out;
}
