/**
 * Broken ONNX models: the hand-made cases of issue 14 (each a small builder CNN edited one way),
 * and seeded byte flips / truncations of the demo model assets/models/digits-cnn.onnx.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGraph } from '../../src/builder/index.js';
import { intAttr, intsAttr, type Graph, type Node } from '../../src/ir/graph.js';
import { float32 } from '../../src/ir/tensor.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { onnx, type OnnxNs } from '../../src/onnx/proto.js';
import { Rng } from './rng.js';
import type { Category, FuzzCase, Prepared } from './types.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const DIGITS_MODEL = join(ROOT, 'assets/models/digits-cnn.onnx');

const cnn = { model: 'cnn3', filters: 4, inputSize: 8, kernel: 3, stride: 1, classes: 3, seed: 1 } as const;
const resnet = { model: 'resnetSmall', depth: 8, width: 4, inputSize: 8, classes: 3, seed: 1 } as const;
/** The input of the builder models: [1, 3, 8, 8]. */
export const smallInput = (): { data: Float32Array; dims: number[] } => ({ data: new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i)), dims: [1, 3, 8, 8] });

/** The first two demo digits, [2, 1, 28, 28]. */
export function digitsInput(): { data: Float32Array; dims: number[] } {
  const all = decodeNpy(readFileSync(join(ROOT, 'assets/demo/digits.npy')));
  return { data: all.data.slice(0, 2 * 28 * 28), dims: [2, 1, 28, 28] };
}

const node = (g: Graph, name: string): Node => g.nodes.find((n) => n.name === name)!;
const fromGraph = (edit: (g: Graph) => void, spec: typeof cnn | typeof resnet = cnn) => (): Uint8Array => {
  const g = buildGraph(spec);
  edit(g);
  return encodeModel(g);
};
const fromProto = (edit: (m: OnnxNs.ModelProto) => void, spec: typeof cnn | typeof resnet = cnn) => (): Uint8Array => {
  const m = onnx.ModelProto.decode(encodeModel(buildGraph(spec)));
  edit(m);
  return onnx.ModelProto.encode(m).finish();
};
const protoNode = (m: OnnxNs.ModelProto, name: string): OnnxNs.INodeProto => m.graph!.node!.find((n) => n.name === name)!;
const protoInit = (m: OnnxNs.ModelProto, name: string): OnnxNs.ITensorProto => m.graph!.initializer!.find((t) => t.name === name)!;

/** `explain` of `bytes` on an .npy input; the logits are checked against onnxruntime when accepted. */
export async function explainModel(dir: string, bytes: Uint8Array, input: { data: Float32Array; dims: number[] }, extra: string[] = []): Promise<Prepared> {
  const model = join(dir, 'model.onnx');
  const x = join(dir, 'x.npy');
  writeFileSync(model, bytes);
  writeFileSync(x, encodeNpy(input.data, input.dims));
  const out = join(dir, 'out');
  return { args: ['explain', '--model', model, '--input-npy', x, '--out', out, '-q', ...extra], out, check: { model, input } };
}

/** A Flatten → Gemm → n ReLUs chain (compile time must stay linear in n). */
function reluChain(n: number): Uint8Array {
  const g = buildGraph(cnn);
  const last = g.nodes[g.nodes.length - 1]!;
  const head = last.outputs[0]!;
  last.outputs[0] = 'chain_0';
  for (let i = 0; i < n; i++) g.nodes.push({ name: `r${i}`, op: 'Relu', domain: '', inputs: [`chain_${i}`], outputs: [i === n - 1 ? head : `chain_${i + 1}`], attrs: {} });
  return encodeModel(g);
}

const R1: readonly Category[] = ['refused-1'];
const OK: readonly Category[] = ['accepted-equal'];

interface ModelCase {
  name: string;
  bytes: () => Uint8Array;
  expect?: readonly Category[];
  slow?: boolean;
  extra?: string[];
}

const ESC = '\x1b[2J\r';

const HAND_MADE: ModelCase[] = [
  { name: 'control', bytes: fromGraph(() => undefined), expect: OK },
  { name: 'control-resnet', bytes: fromGraph(() => undefined, resnet), expect: OK },
  { name: 'cycle-self-loop', bytes: fromGraph((g) => (node(g, 'relu1').inputs[0] = node(g, 'relu1').outputs[0]!)), expect: R1 },
  { name: 'cycle-long', bytes: fromGraph((g) => (node(g, 'conv1').inputs[0] = node(g, 'relu1').outputs[0]!)), expect: R1 },
  { name: 'init-dims-minus-1', bytes: fromProto((m) => (protoInit(m, 'fc.bias').dims = [-1])), expect: R1 },
  { name: 'init-dims-huge', bytes: fromProto((m) => (protoInit(m, 'fc.bias').dims = [2 ** 40])), expect: R1 },
  { name: 'init-raw-too-long', bytes: fromProto((m) => (protoInit(m, 'fc.bias').rawData = new Uint8Array(4 * 3 + 4))) },
  { name: 'init-raw-too-short', bytes: fromProto((m) => (protoInit(m, 'fc.bias').rawData = new Uint8Array(4))), expect: R1 },
  { name: 'input-dim-minus-1', bytes: fromProto((m) => (m.graph!.input![0]!.type!.tensorType!.shape!.dim![2] = onnx.TensorShapeProto.Dimension.create({ dimValue: -1 }))), expect: R1 },
  { name: 'conv-stride-0', bytes: fromGraph((g) => (node(g, 'conv1').attrs.strides = intsAttr([0, 1]))), expect: R1 },
  { name: 'conv-stride-negative', bytes: fromGraph((g) => (node(g, 'conv1').attrs.strides = intsAttr([-2, 1]))), expect: R1 },
  { name: 'conv-pads-negative', bytes: fromGraph((g) => (node(g, 'conv1').attrs.pads = intsAttr([0, -1, 0, 0]))), expect: R1 },
  { name: 'conv-pads-huge', bytes: fromGraph((g) => (node(g, 'conv1').attrs.pads = intsAttr([2 ** 30, 0, 0, 0]))) },
  { name: 'conv-dilations-huge', bytes: fromGraph((g) => (node(g, 'conv1').attrs.dilations = intsAttr([1000000, 1]))), expect: R1 },
  { name: 'conv-kernel-shape-wrong', bytes: fromGraph((g) => (node(g, 'conv1').attrs.kernel_shape = intsAttr([5, 5]))) },
  { name: 'conv-group-0', bytes: fromGraph((g) => (node(g, 'conv1').attrs.group = intAttr(0))), expect: R1 },
  { name: 'duplicate-node-names', bytes: fromGraph((g) => { node(g, 'relu1').name = 'conv1'; node(g, 'fc').name = 'conv1'; }), expect: R1 },
  { name: 'empty-node-names', bytes: fromGraph((g) => { for (const n of g.nodes) n.name = ''; }), expect: OK },
  {
    name: 'cast-float16',
    bytes: fromGraph((g) => {
      const relu = node(g, 'relu1');
      g.nodes.splice(g.nodes.indexOf(relu) + 1, 0, { name: 'half', op: 'Cast', domain: '', inputs: [relu.outputs[0]!], outputs: ['relu1_half'], attrs: { to: intAttr(10) } });
      node(g, 'flatten').inputs[0] = 'relu1_half';
    }),
    expect: R1,
  },
  {
    // float16 and back: a valid model, computed by Backlight in float32 throughout.
    name: 'cast-float16-and-back',
    bytes: fromGraph((g) => {
      const relu = node(g, 'relu1');
      g.nodes.splice(g.nodes.indexOf(relu) + 1, 0,
        { name: 'half', op: 'Cast', domain: '', inputs: [relu.outputs[0]!], outputs: ['relu1_half'], attrs: { to: intAttr(10) } },
        { name: 'full', op: 'Cast', domain: '', inputs: ['relu1_half'], outputs: ['relu1_full'], attrs: { to: intAttr(1) } });
      node(g, 'flatten').inputs[0] = 'relu1_full';
    }),
  },
  { name: 'bn-param-wrong-length', bytes: fromGraph((g) => g.initializers.set('bn1.bias', float32([5], [0, 0, 0, 0, 0])), resnet), expect: R1 },
  { name: 'bn-params-not-per-channel', bytes: fromGraph((g) => { for (const p of ['weight', 'bias', 'running_mean', 'running_var']) g.initializers.set(`bn1.${p}`, float32([5], [1, 1, 1, 1, 1])); }, resnet), expect: R1 },
  { name: 'bn-variance-negative', bytes: fromGraph((g) => g.initializers.set('bn1.running_var', float32([4], [1, 1, -0.5, 1])), resnet), expect: R1 },
  { name: 'bn-epsilon-int', bytes: fromProto((m) => { const a = protoNode(m, 'bn1').attribute!; a.push(onnx.AttributeProto.create({ name: 'epsilon', type: onnx.AttributeProto.AttributeType.INT, i: 1 })); }, resnet), expect: R1 },
  { name: 'gemm-alpha-int', bytes: fromProto((m) => { protoNode(m, 'fc').attribute!.push(onnx.AttributeProto.create({ name: 'alpha', type: onnx.AttributeProto.AttributeType.INT, i: 2 })); }), expect: R1 },
  { name: 'conv-strides-float', bytes: fromProto((m) => { const s = protoNode(m, 'conv1').attribute!.find((a) => a.name === 'strides'); if (s) { s.type = onnx.AttributeProto.AttributeType.FLOATS; s.floats = [1, 1]; s.ints = []; } else protoNode(m, 'conv1').attribute!.push(onnx.AttributeProto.create({ name: 'strides', type: onnx.AttributeProto.AttributeType.FLOATS, floats: [1, 1] })); }), expect: R1 },
  { name: 'weights-nan', bytes: fromGraph((g) => ((g.initializers.get('conv1.weight')!.data as Float32Array)[7] = NaN)), expect: R1 },
  { name: 'weights-inf', bytes: fromGraph((g) => ((g.initializers.get('fc.bias')!.data as Float32Array)[1] = -Infinity)), expect: R1 },
  { name: 'weights-overflowing', bytes: fromGraph((g) => (g.initializers.get('conv1.weight')!.data as Float32Array).fill(3e38)), expect: R1 },
  { name: 'weights-overflowing-lrp', bytes: fromGraph((g) => (g.initializers.get('conv1.weight')!.data as Float32Array).fill(3e38)), expect: R1, extra: ['--method', 'lrp-epsilon'] },
  { name: 'weights-huge-backward', bytes: fromGraph((g) => { for (const n of ['conv1.weight', 'fc.weight']) { const w = g.initializers.get(n)!.data as Float32Array; for (let i = 0; i < w.length; i++) w[i]! *= 1e19; } }) },
  {
    name: 'duplicate-initializer',
    bytes: fromProto((m) => { const w = protoInit(m, 'fc.weight'); m.graph!.initializer!.push(onnx.TensorProto.create({ ...w, rawData: new Uint8Array(w.rawData!.length) })); }),
    expect: R1,
  },
  { name: 'two-nodes-one-tensor', bytes: fromGraph((g) => (node(g, 'flatten').outputs[0] = node(g, 'relu1').outputs[0]!)), expect: R1 },
  { name: 'node-writes-initializer', bytes: fromGraph((g) => { node(g, 'relu1').outputs[0] = 'fc.bias'; node(g, 'flatten').inputs[0] = 'fc.bias'; }), expect: R1 },
  { name: 'attribute-without-type', bytes: fromProto((m) => (protoNode(m, 'conv1').attribute!.find((a) => a.name === 'strides')!.type = 0)), expect: R1 },
  {
    name: 'fp16-initializer-into-fp32-gemm',
    bytes: fromProto((m) => { const w = protoInit(m, 'fc.weight'); w.dataType = onnx.TensorProto.DataType.FLOAT16; w.rawData = new Uint8Array(w.rawData!.length / 2).fill(0x3c); }),
    expect: R1,
  },
  { name: 'int64-initializer-into-conv', bytes: fromProto((m) => { const w = protoInit(m, 'conv1.bias'); w.dataType = onnx.TensorProto.DataType.INT64; w.rawData = new Uint8Array(w.rawData!.length * 2); }), expect: R1 },
  { name: 'input-dtype-int64', bytes: fromProto((m) => (m.graph!.input![0]!.type!.tensorType!.elemType = onnx.TensorProto.DataType.INT64)), expect: R1 },
  { name: 'input-dtype-float16', bytes: fromProto((m) => (m.graph!.input![0]!.type!.tensorType!.elemType = onnx.TensorProto.DataType.FLOAT16)), expect: R1 },
  { name: 'deep-chain-2k', bytes: () => reluChain(2000), expect: OK },
  { name: 'deep-chain-20k', bytes: () => reluChain(20000), expect: OK, slow: true },
  { name: 'node-name-esc-refused', bytes: fromGraph((g) => { const c = node(g, 'conv1'); c.name = `conv${ESC}`; c.attrs.strides = intsAttr([0, 0]); }), expect: R1 },
  { name: 'tensor-name-esc', bytes: fromGraph((g) => { const r = node(g, 'relu1'); const old = r.outputs[0]!; r.outputs[0] = `relu${ESC}\u202e`; node(g, 'flatten').inputs[0] = r.outputs[0]; void old; }), expect: OK },
  { name: 'tensor-name-esc-list-layers', bytes: fromGraph((g) => { const r = node(g, 'relu1'); r.outputs[0] = `relu${ESC}`; node(g, 'flatten').inputs[0] = r.outputs[0]; }), extra: ['--method', 'gradcam', '--layer', `relu${ESC}`] },
  { name: 'input-name-esc', bytes: fromGraph((g) => { g.inputs[0]!.name = `in${ESC}`; node(g, 'conv1').inputs[0] = `in${ESC}`; }), expect: OK },
  { name: 'initializer-name-esc-nan', bytes: fromGraph((g) => { const w = g.initializers.get('fc.bias')!; (w.data as Float32Array)[0] = NaN; g.initializers.delete('fc.bias'); g.initializers.set(`b${ESC}`, w); node(g, 'fc').inputs[2] = `b${ESC}`; }), expect: R1 },
  { name: 'unknown-op-esc', bytes: fromGraph((g) => (node(g, 'relu1').op = `Re${ESC}lu`)), expect: R1 },
  { name: 'unknown-op', bytes: fromGraph((g) => (node(g, 'relu1').op = 'FancyRelu')), expect: R1 },
  { name: 'custom-domain', bytes: fromGraph((g) => (node(g, 'relu1').domain = 'com.example')), expect: R1 },
  { name: 'output-not-produced', bytes: fromGraph((g) => (g.outputs[0]!.name = 'nowhere')), expect: R1 },
  { name: 'input-unused-missing-tensor', bytes: fromGraph((g) => (node(g, 'flatten').inputs[0] = 'missing')), expect: R1 },
  { name: 'two-inputs', bytes: fromGraph((g) => g.inputs.push({ name: 'extra', dtype: 'float32', shape: [1] })), expect: R1 },
  { name: 'no-inputs', bytes: fromGraph((g) => (g.inputs = [])), expect: R1 },
  { name: 'opset-3', bytes: () => encodeModel(buildGraph(cnn), 'fuzz', 3), expect: R1 },
  { name: 'opset-99', bytes: () => encodeModel(buildGraph(cnn), 'fuzz', 99), expect: R1 },
  { name: 'opset-missing', bytes: fromProto((m) => (m.opsetImport = [])), expect: R1 },
  { name: 'ir-version-0', bytes: fromProto((m) => (m.irVersion = 0)) },
  { name: 'no-nodes', bytes: fromProto((m) => (m.graph!.node = [])), expect: R1 },
  { name: 'no-graph', bytes: fromProto((m) => (m.graph = null)), expect: R1 },
  { name: 'external-data-outside', bytes: fromProto((m) => { const w = protoInit(m, 'fc.weight'); w.rawData = new Uint8Array(); w.dataLocation = 1; w.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: '../../../../etc/passwd' })]; }), expect: R1 },
  { name: 'external-data-missing', bytes: fromProto((m) => { const w = protoInit(m, 'fc.weight'); w.rawData = new Uint8Array(); w.dataLocation = 1; w.externalData = [onnx.StringStringEntryProto.create({ key: 'location', value: 'weights.bin' })]; }), expect: R1 },
  { name: 'empty-file', bytes: () => new Uint8Array(), expect: R1 },
  { name: 'not-protobuf-text', bytes: () => new TextEncoder().encode('this is not a model\n'), expect: R1 },
  { name: 'not-protobuf-json', bytes: () => new TextEncoder().encode('{"graph": {"node": []}}'), expect: R1 },
  { name: 'not-protobuf-png', bytes: () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]), expect: R1 },
  { name: 'zeros-1k', bytes: () => new Uint8Array(1024), expect: R1 },
  ...[1, 10, 100, 0.5, -1].map((at): ModelCase => ({
    name: `truncated-${at}`,
    bytes: () => { const b = encodeModel(buildGraph(cnn)); return b.subarray(0, at === -1 ? b.length - 1 : at < 1 ? Math.floor(b.length * at) : at); },
    expect: R1,
  })),
];

/** Tensor inputs of the hand-made models: the builder CNNs take [1, 3, 8, 8]. */
export function handMadeModelCases(): FuzzCase[] {
  return HAND_MADE.map((c) => ({
    id: `onnx/${c.name}`,
    group: 'onnx',
    expect: c.expect,
    slow: c.slow,
    prepare: (dir) => explainModel(dir, c.bytes(), smallInput(), c.extra ?? []),
  }));
}

/** An edit of a real model's bytes: k random bytes replaced, a truncation, or a chunk removed. */
function mutate(bytes: Uint8Array, rng: Rng): Uint8Array {
  const kind = rng.int(0, 10);
  if (kind < 6) {
    const out = bytes.slice();
    const k = rng.int(1, 9);
    // Half the flips land in the first 2 KiB: the graph's structure (names, attributes, types), not the weights.
    for (let i = 0; i < k; i++) out[rng.next() < 0.5 ? rng.int(0, Math.min(2048, out.length)) : rng.int(0, out.length)] = rng.int(0, 256);
    return out;
  }
  if (kind < 8) return bytes.slice(0, rng.int(0, bytes.length));
  const at = rng.int(0, bytes.length);
  const len = rng.int(1, 64);
  const out = new Uint8Array(bytes.length - Math.min(len, bytes.length - at));
  out.set(bytes.subarray(0, at));
  out.set(bytes.subarray(at + len), at);
  return out;
}

/**
 * `count` seeded mutations of a model (default: the demo model, explained on two demo digits; the
 * full run adds a shared CIFAR ResNet when ../shared is there).
 */
export function flipCases(seed: number, count: number, model = DIGITS_MODEL, input = digitsInput, label = 'digits'): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    cases.push({
      id: `flip/${label}#${i}`,
      group: 'flip',
      prepare: (dir) => {
        const rng = new Rng(seed * 1000003 + i + (label === 'digits' ? 0 : 7777));
        return explainModel(dir, mutate(readFileSync(model), rng), input(), ['--no-png']);
      },
    });
  }
  return cases;
}

/** A seeded [1, 3, 32, 32] input for the shared CIFAR models. */
export function cifarInput(): { data: Float32Array; dims: number[] } {
  const rng = new Rng(32);
  return { data: Float32Array.from({ length: 3 * 32 * 32 }, () => rng.next() * 4 - 2), dims: [1, 3, 32, 32] };
}

/** An input of 46341 × 46341 pixels (over 2^31 values with three channels), with preset none. */
export function hugeInputCase(): FuzzCase {
  return {
    id: 'onnx/input-2^31-pixels-preset-none',
    group: 'onnx',
    expect: ['refused-1', 'refused-2'],
    prepare: async (dir) => {
      const m = onnx.ModelProto.decode(encodeModel(buildGraph(cnn)));
      m.graph!.input![0]!.type!.tensorType!.shape!.dim = [1, 3, 46341, 46341].map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d }));
      const model = join(dir, 'model.onnx');
      writeFileSync(model, onnx.ModelProto.encode(m).finish());
      const png = join(dir, 'p.png');
      const sharp = (await import('sharp')).default;
      await sharp(Buffer.alloc(8 * 8 * 3, 100), { raw: { width: 8, height: 8, channels: 3 } }).png().toFile(png);
      const out = join(dir, 'out');
      return { args: ['explain', '--model', model, '--image', png, '--preset', 'none', '--out', out, '-q'], out };
    },
  };
}
