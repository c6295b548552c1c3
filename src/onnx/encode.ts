/** Graph IR → ONNX ModelProto bytes at IR_OPSET. */
import { IR_OPSET, type Attr, type Graph, type ValueInfo } from '../ir/graph.js';
import { dtypeCode, onnx, tensorToProto, type OnnxNs } from './proto.js';

/** ONNX IR version 8 goes with opset 17. */
const IR_VERSION = 8;

function attrToProto(name: string, a: Attr): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int': return { name, type: T.INT, i: a.value };
    case 'float': return { name, type: T.FLOAT, f: a.value };
    case 'string': return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'ints': return { name, type: T.INTS, ints: a.value };
    case 'floats': return { name, type: T.FLOATS, floats: a.value };
    case 'strings': return { name, type: T.STRINGS, strings: a.value.map((s) => new TextEncoder().encode(s)) };
    case 'tensor': return { name, type: T.TENSOR, t: tensorToProto('', a.value) };
  }
}

function valueInfoToProto(v: ValueInfo): OnnxNs.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: dtypeCode(v.dtype),
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** `opset` other than IR_OPSET is for tests that write graphs in an older or newer opset's form. */
export function encodeModel(g: Graph, producer = 'backlight', opset = IR_OPSET): Uint8Array {
  const model: OnnxNs.IModelProto = {
    irVersion: IR_VERSION,
    producerName: producer,
    opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: g.name,
      input: g.inputs.map(valueInfoToProto),
      output: g.outputs.map(valueInfoToProto),
      initializer: [...g.initializers].map(([name, t]) => tensorToProto(name, t)),
      node: g.nodes.map((n) => ({
        name: n.name,
        opType: n.op,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs).map(([k, a]) => attrToProto(k, a)),
      })),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}
