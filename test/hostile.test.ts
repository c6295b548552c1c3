/**
 * Hostile and broken inputs: every broken model, input or option is refused before anything runs,
 * in one line naming the node, tensor or attribute and what was expected (or gives a right
 * answer); a non-finite explanation is reported instead of returned; names from models reach a
 * terminal, a caption or an HTML page escaped.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGraph } from '../src/builder/index.js';
import { escapeControl, oneLine } from '../src/errors.js';
import { BacklightError, Explainer } from '../src/index.js';
import { esc } from '../src/eval/html.js';
import { decodeNpy, encodeNpy } from '../src/io/npy.js';
import { drawGrid } from '../src/io/png.js';
import { intAttr, intsAttr, type Graph } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import { EPSILON, META_LR } from '../src/methods/params.js';
import { encodeModel } from '../src/onnx/encode.js';
import { onnx, type OnnxNs } from '../src/onnx/proto.js';
import { layoutGrid, labelsSvg } from '../src/render/grid.js';
import { floatTiff } from './fuzz/inputs.js';
import { cli } from './helpers/cli.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const cnn = { model: 'cnn3', filters: 4, inputSize: 8, kernel: 3, stride: 1, classes: 3, seed: 1 } as const;
const resnet = { model: 'resnetSmall', depth: 8, width: 4, inputSize: 8, classes: 3, seed: 1 } as const;
const x = { data: new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i)), dims: [1, 3, 8, 8] };

/** The one-line message an Explainer.load of `g` (or of model bytes) is refused with. */
async function refusal(model: Graph | Uint8Array, options: Parameters<typeof Explainer.load>[1] = {}): Promise<string> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const err = await Explainer.load(bytes, { source: 'bad.onnx', ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BacklightError);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

/** A model's bytes after editing its ModelProto. */
function editProto(g: Graph, edit: (m: OnnxNs.ModelProto) => void): Uint8Array {
  const m = onnx.ModelProto.decode(encodeModel(g));
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

/** Explains `g` on `x` and returns the refusal's message (one line). */
async function explainRefusal(g: Graph, options: Parameters<Explainer['explain']>[1]): Promise<string> {
  const ex = await Explainer.load(encodeModel(g));
  const err = await ex.explain(x, options).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(BacklightError);
  const message = (err as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

const node = (g: Graph, name: string) => g.nodes.find((n) => n.name === name)!;

describe('the graph', () => {
  it('a self-loop names the node', async () => {
    const g = buildGraph(cnn);
    node(g, 'relu1').inputs[0] = node(g, 'relu1').outputs[0]!;
    expect(await refusal(g)).toBe("bad.onnx: node 'relu1' (Relu) reads its own output; the graph must be acyclic");
  });
  it('a longer cycle names a node on it', async () => {
    const g = buildGraph(cnn);
    node(g, 'conv1').inputs[0] = node(g, 'relu1').outputs[0]!;
    expect(await refusal(g)).toMatch(/^bad\.onnx: node '(conv1|relu1)' \((Conv|Relu)\) is on a cycle \(reads '.+'.*\); the graph must be acyclic$/);
  });
  it('two nodes writing one tensor', async () => {
    const g = buildGraph(cnn);
    node(g, 'flatten').outputs[0] = node(g, 'relu1').outputs[0]!;
    expect(await refusal(g)).toBe(`bad.onnx: tensor 'relu1' is written by two nodes, 'relu1' (Relu) and 'flatten' (Flatten); every tensor needs one producer`);
  });
  it('a node writing an initializer', async () => {
    const g = buildGraph(cnn);
    node(g, 'relu1').outputs[0] = 'fc.bias';
    node(g, 'flatten').inputs[0] = 'fc.bias';
    expect(await refusal(g)).toMatch(/node 'relu1' \(Relu\) writes tensor 'fc\.bias', which is also an initializer/);
  });
  it('duplicate initializer names are refused (onnxruntime would use the first, we would use the last)', async () => {
    const bytes = editProto(buildGraph(cnn), (m) => {
      const w = m.graph!.initializer!.find((t) => t.name === 'fc.weight')!;
      m.graph!.initializer!.push(onnx.TensorProto.create({ ...w, rawData: new Uint8Array(w.rawData!.length) }));
    });
    expect(await refusal(bytes)).toBe("bad.onnx: initializer 'fc.weight' is defined twice; each initializer needs a unique name (which copy is meant is ambiguous)");
  });
  it('duplicate node names are refused (onnxruntime refuses them too); empty names are not names', async () => {
    const g = buildGraph(cnn);
    node(g, 'relu1').name = 'conv1';
    expect(await refusal(g)).toBe("bad.onnx: two nodes are named 'conv1' (Conv and Relu); node names must be unique (or empty)");
    const h = buildGraph(cnn);
    const ref = await (await Explainer.load(encodeModel(h))).explain(x, { method: 'gradient' });
    for (const n of h.nodes) n.name = '';
    const e = await (await Explainer.load(encodeModel(h))).explain(x, { method: 'gradient' });
    expect(Array.from(e.attribution.data)).toEqual(Array.from(ref.attribution.data));
  });
  it('an attribute without a type', async () => {
    const bytes = editProto(buildGraph(cnn), (m) => {
      const conv = m.graph!.node!.find((n) => n.name === 'conv1')!;
      conv.attribute!.find((a) => a.name === 'strides')!.type = 0;
    });
    expect(await refusal(bytes)).toBe("bad.onnx: node 'conv1' (Conv): attribute 'strides' has no type (AttributeProto.type is UNDEFINED); every attribute must declare its type");
  });
  it('a negative dimension in an initializer or the input shape', async () => {
    const bytes = editProto(buildGraph(cnn), (m) => {
      m.graph!.initializer!.find((t) => t.name === 'fc.bias')!.dims = [-1];
    });
    expect(await refusal(bytes)).toBe("bad.onnx: initializer 'fc.bias' has dimension 0 = -1 in [-1]; dimensions must be integers ≥ 0");
    const input = editProto(buildGraph(cnn), (m) => {
      m.graph!.input![0]!.type!.tensorType!.shape!.dim![2] = onnx.TensorShapeProto.Dimension.create({ dimValue: -1 });
    });
    expect(await refusal(input)).toBe("bad.onnx: graph input/output 'input': dimension 2 is -1; a dimension must be ≥ 0 or a symbolic name");
  });
});

describe('attributes', () => {
  const conv = (edit: (g: Graph) => void): Graph => {
    const g = buildGraph(cnn);
    edit(g);
    return g;
  };
  it('Conv strides ≥ 1, pads ≥ 0, dilations ≥ 1, kernel_shape ≥ 1, group ≥ 1', async () => {
    expect(await refusal(conv((g) => (node(g, 'conv1').attrs.strides = intsAttr([0, 1]))))).toBe("bad.onnx: node 'conv1' (Conv): strides must be integers ≥ 1 (got [0, 1])");
    expect(await refusal(conv((g) => (node(g, 'conv1').attrs.pads = intsAttr([0, -1, 0, 0]))))).toBe("bad.onnx: node 'conv1' (Conv): pads must be integers ≥ 0 (got [0, -1, 0, 0])");
    expect(await refusal(conv((g) => (node(g, 'conv1').attrs.dilations = intsAttr([0, 1]))))).toBe("bad.onnx: node 'conv1' (Conv): dilations must be integers ≥ 1 (got [0, 1])");
    expect(await refusal(conv((g) => (node(g, 'conv1').attrs.kernel_shape = intsAttr([0, 3]))))).toBe("bad.onnx: node 'conv1' (Conv): kernel_shape must be integers ≥ 1 (got [0, 3])");
    expect(await refusal(conv((g) => (node(g, 'conv1').attrs.group = intAttr(0))))).toBe("bad.onnx: node 'conv1' (Conv): group must be an integer ≥ 1 (got 0)");
  });
  it('a dilated kernel larger than the padded input, once the input shape is known', async () => {
    const g = conv((g) => (node(g, 'conv1').attrs.dilations = intsAttr([1000000, 1])));
    expect(await explainRefusal(g, { method: 'gradient' })).toBe("node 'conv1' (Conv): the dilated kernel spans 2000001 along spatial axis 0 (kernel 3, dilation 1000000) but the padded input has 8; it must fit");
  });
  it('a group that does not divide the channels', async () => {
    const g = conv((g) => (node(g, 'conv1').attrs.group = intAttr(2)));
    const message = await explainRefusal(g, { method: 'gradient' });
    expect(message).toBe("node 'conv1' (Conv): group 2 must divide the input channels (3) and the output channels (4)");
  });
  it('strides given for the wrong number of axes', async () => {
    const g = conv((g) => (node(g, 'conv1').attrs.strides = intsAttr([1, 1, 1])));
    expect(await explainRefusal(g, { method: 'gradient' })).toBe("node 'conv1' (Conv): strides has 3 values; an input of shape [1, 3, 8, 8] needs 2");
  });
  it('a pooling window of stride 0', async () => {
    const g = buildGraph({ ...cnn, maxPool: true });
    node(g, 'pool1').attrs.strides = intsAttr([2, 0]);
    expect(await refusal(g)).toBe("bad.onnx: node 'pool1' (MaxPool): strides must be integers ≥ 1 (got [2, 0])");
  });
});

describe('weights and shapes', () => {
  it('BatchNormalization parameters of unequal length, or not one per channel', async () => {
    const g = buildGraph(resnet);
    g.initializers.set('bn1.bias', float32([5], [0, 0, 0, 0, 0]));
    expect(await refusal(g)).toBe("bad.onnx: node 'bn1' (BatchNormalization): B 'bn1.bias' has 5 values but the parameters before it have 4; all four need one value per channel");
    const h = buildGraph(resnet);
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) h.initializers.set(`bn1.${p}`, float32([5], [1, 1, 1, 1, 1]));
    expect(await explainRefusal(h, { method: 'gradient' })).toBe("node 'bn1' (BatchNormalization): scale 'bn1.weight' has shape [5]; the input [1, 4, 8, 8] has 4 channels, so it needs [4]");
  });
  it('a negative BatchNormalization variance is named', async () => {
    const g = buildGraph(resnet);
    g.initializers.set('bn1.running_var', float32([4], [1, 1, -0.5, 1]));
    expect(await refusal(g)).toBe("bad.onnx: node 'bn1' (BatchNormalization): variance 'bn1.running_var' holds -0.5 at index 2; a variance must be ≥ 0");
  });
  it('NaN or ±Inf weights are named with the initializer', async () => {
    const g = buildGraph(cnn);
    (g.initializers.get('conv1.weight')!.data as Float32Array)[7] = NaN;
    expect(await refusal(g)).toBe("bad.onnx: initializer 'conv1.weight' (input 1 of node 'conv1' (Conv)) holds NaN at index 7; weights must be finite");
    const h = buildGraph(cnn);
    (h.initializers.get('fc.bias')!.data as Float32Array)[1] = -Infinity;
    expect(await refusal(h)).toBe("bad.onnx: initializer 'fc.bias' (input 2 of node 'fc' (Gemm)) holds -Inf at index 1; weights must be finite");
  });
  it('initializers over the byte budget', async () => {
    const message = await refusal(buildGraph(cnn), { budget: { maxInitializerBytes: 100 } });
    expect(message).toMatch(/^bad\.onnx: the initializers hold \d+ bytes, more than the budget of 100 \(ExplainerOptions\.budget\.maxInitializerBytes\)$/);
  });
  it('an input over the element budget is refused before anything is compiled', async () => {
    const ex = await Explainer.load(encodeModel(buildGraph(cnn)), { budget: { maxInputElements: 100 } });
    await expect(ex.explain(x, { method: 'gradient' })).rejects.toThrow("input for 'input': shape [1, 3, 8, 8] has 192 elements, more than the budget of 100 (ExplainerOptions.budget.maxInputElements)");
    await expect(ex.predict(x)).rejects.toThrow(/more than the budget of 100/);
    expect(() => ex.layers([2 ** 20, 3, 8, 8])).toThrow(/shape \[1048576, 3, 8, 8\] has 201326592 elements, more than the budget of 100/);
  });
  it('a Cast to float16 and back is computed in float32; a float16 tensor into a float32 Gemm is refused', async () => {
    const g = buildGraph(cnn);
    const ref = await (await Explainer.load(encodeModel(g))).explain(x, { method: 'gradient' });
    const relu = node(g, 'relu1');
    g.nodes.splice(g.nodes.indexOf(relu) + 1, 0,
      { name: 'half', op: 'Cast', domain: '', inputs: [relu.outputs[0]!], outputs: ['relu1_half'], attrs: { to: intAttr(10) } },
      { name: 'full', op: 'Cast', domain: '', inputs: ['relu1_half'], outputs: ['relu1_full'], attrs: { to: intAttr(1) } });
    node(g, 'flatten').inputs[0] = 'relu1_full';
    const e = await (await Explainer.load(encodeModel(g))).explain(x, { method: 'gradient' });
    expect(Array.from(e.attribution.data)).toEqual(Array.from(ref.attribution.data));
    node(g, 'flatten').inputs[0] = 'relu1_half';
    expect(await refusal(g)).toBe("bad.onnx: node 'fc' (Gemm): input 1 'fc.weight' is float32 but input 0 'flatten' is float16; the inputs of Gemm must share one element type");
  });
  it('a float16 initializer into a float32 Gemm, an int64 Conv bias (onnxruntime refuses both)', async () => {
    const half = editProto(buildGraph(cnn), (m) => {
      const w = m.graph!.initializer!.find((t) => t.name === 'fc.weight')!;
      w.dataType = onnx.TensorProto.DataType.FLOAT16;
      w.rawData = new Uint8Array(w.rawData!.length / 2).fill(0x3c);
    });
    expect(await refusal(half)).toBe("bad.onnx: node 'fc' (Gemm): input 1 'fc.weight' is float16 but input 0 'flatten' is float32; the inputs of Gemm must share one element type");
    const int = editProto(buildGraph(cnn), (m) => {
      const b = m.graph!.initializer!.find((t) => t.name === 'conv1.bias')!;
      b.dataType = onnx.TensorProto.DataType.INT64;
      b.rawData = new Uint8Array(b.rawData!.length * 2);
    });
    expect(await refusal(int)).toBe("bad.onnx: node 'conv1' (Conv): input 2 'conv1.bias' is int64 but input 0 'input' is float32; the inputs of Conv must share one element type");
  });
  it('an attribute of the wrong type or unknown to its op (onnxruntime refuses both)', async () => {
    const T = onnx.AttributeProto.AttributeType;
    const intAlpha = editProto(buildGraph(cnn), (m) => m.graph!.node!.find((n) => n.name === 'fc')!.attribute!.push(onnx.AttributeProto.create({ name: 'alpha', type: T.INT, i: 2 })));
    expect(await refusal(intAlpha)).toBe("bad.onnx: node 'fc' (Gemm): attribute 'alpha' has type INT; it must be FLOAT");
    const typo = editProto(buildGraph(cnn), (m) => (m.graph!.node!.find((n) => n.name === 'conv1')!.attribute!.find((a) => a.name === 'strides')!.name = 'strdes'));
    expect(await refusal(typo)).toBe("bad.onnx: node 'conv1' (Conv): unknown attribute 'strdes'; Conv has auto_pad, dilations, group, kernel_shape, pads, strides");
  });
  it('raw tensor data longer than the shape needs (onnxruntime refuses it)', async () => {
    const long = editProto(buildGraph(cnn), (m) => (m.graph!.initializer!.find((t) => t.name === 'fc.bias')!.rawData = new Uint8Array(16)));
    expect(await refusal(long)).toBe("bad.onnx: tensor 'fc.bias' of shape [3] holds 16 bytes, expected 12");
  });
});

describe('numerics', async () => {
  const ex = await Explainer.load(encodeModel(buildGraph(cnn)));
  it('NaN or ±Inf in the input is refused in explain and predict', async () => {
    const bad = { data: x.data.slice(), dims: x.dims };
    bad.data[17] = NaN;
    await expect(ex.explain(bad, { method: 'gradient' })).rejects.toThrow("input for 'input': the input holds NaN or ±Inf at index 17 (NaN); inputs must be finite");
    bad.data[17] = 0;
    bad.data[3] = Infinity;
    await expect(ex.predict(bad)).rejects.toThrow("input for 'input': the input holds NaN or ±Inf at index 3 (Infinity); inputs must be finite");
  });
  it('overflowing weights: the method and the first tensor that is not finite are named', async () => {
    const g = buildGraph(cnn);
    const w = g.initializers.get('conv1.weight')!.data as Float32Array;
    for (let i = 0; i < w.length; i++) w[i] = 3e38;
    const message = await explainRefusal(g, { method: 'lrp-epsilon' });
    expect(message).toMatch(/^method 'lrp-epsilon': the attribution holds NaN at index \d+; the forward pass first stops being finite at tensor 'conv1' \(node 'conv1' \(Conv\); all 4 tensors checked\)$/);
  });
  it('a backward pass that overflows where the forward pass does not: the node is named', async () => {
    // Weights ×1e20 on a 1e-30 input: logits ≈ 1e10, but d logit / d input ≈ 1e40 overflows float32.
    const g = buildGraph(cnn);
    for (const name of ['conv1.weight', 'fc.weight']) {
      const w = g.initializers.get(name)!.data as Float32Array;
      for (let i = 0; i < w.length; i++) w[i]! *= 1e20;
    }
    const ex = await Explainer.load(encodeModel(g));
    const tiny = { data: x.data.map((v) => v * 1e-30), dims: x.dims };
    const err = await ex.explain(tiny, { method: 'gradient' }).then(() => undefined, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(BacklightError);
    expect(err!.message).toMatch(/^method 'gradient': the attribution holds -?Infinity at index \d+; the backward signal first stops being finite at the input 'input', computed by node 'conv1' \(Conv\) \(all 4 tensors checked\)$/);
  });
  it('a meta-saliency step that overflows the weights is reported', async () => {
    const message = await explainRefusal(buildGraph(cnn), { method: 'gradient', target: 0, params: { metaLearningRate: 1e38 } });
    expect(message).toMatch(/^method 'gradient': the attribution holds (NaN|-?Infinity) at index \d+ after the meta-saliency step of learning rate 1e\+38; the stepped network is not finite/);
  });
  it('ε and the meta-saliency learning rate are range-checked where they are parsed and in the library', async () => {
    expect(() => EPSILON.parse('1e-300')).toThrow("--epsilon '1e-300' must be a number greater than 0, at least 1.18e-38 (the smallest normal float32) and at most 3.4e38, e.g. 1e-6");
    expect(() => EPSILON.parse('1e39')).toThrow(/must be a number greater than 0, at least 1\.18e-38/);
    expect(EPSILON.parse('1e-30')).toBe(1e-30);
    expect(() => META_LR.parse('1e39')).toThrow(/--meta-lr '1e39' must be a number greater than 0/);
    await expect(ex.explain(x, { method: 'lrp-epsilon', params: { epsilon: 1e-300 } })).rejects.toThrow(/^the LRP ε must be a number greater than 0, at least 1\.18e-38 .*\(got 1e-300\)$/);
    await expect(ex.explain(x, { method: 'gradient', params: { metaLearningRate: Infinity } })).rejects.toThrow(/learning rate must be positive and finite \(got Infinity\)/);
  });
});

describe('escaping', () => {
  it('control characters are shown escaped, printable Unicode kept', () => {
    expect(escapeControl('a\x1b[2Jb\rc\nd\té→漢\u202e\x7f\x9b')).toBe('a\\x1b[2Jb\\rc\\nd\\té→漢\\u202e\\x7f\\x9b');
    expect(escapeControl('line\n\tnext', '\n\t')).toBe('line\n\tnext');
    expect(oneLine("node 'x\x1b[2J' (Relu):\n  cannot\r")).toBe("node 'x\\x1b[2J' (Relu): cannot");
  });
  it('grid captions and HTML hold no raw control characters', () => {
    const layout = layoutGrid({ columns: ['cat\x1b[2J', 'dog'], rows: ['grad\rient'], tile: 128, title: 'model\x07' });
    const svg = labelsSvg(layout);
    expect(svg).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(svg).toContain('cat\\x1b[2J');
    expect(esc('<b>\x1b[2J</b>')).toBe('&lt;b&gt;\\x1b[2J&lt;/b&gt;');
  });
  it('a grid whose labels hold control characters is drawn (a --labels entry or a file name)', async () => {
    const layout = layoutGrid({ columns: ['cat\x00\x1b[2J'], rows: ['in\rput.png'], tile: 32 });
    const tile = { data: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
    const dir = mkdtempSync(join(tmpdir(), 'backlight-grid-'));
    try {
      await drawGrid(join(dir, 'grid.png'), layout, { input: tile, cells: [[tile]] });
      expect(existsSync(join(dir, 'grid.png'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the CLI', () => {
  const work = mkdtempSync(join(tmpdir(), 'backlight-hostile-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const spawnCli = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, BACKLIGHT_DEBUG: '' }, timeout: 60_000 });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const npy = join(work, 'x.npy');
  writeFileSync(npy, encodeNpy(x.data, x.dims));

  it('a model with a cycle: exit 1, one line on stderr, nothing written', () => {
    const g = buildGraph(cnn);
    node(g, 'relu1').inputs[0] = node(g, 'relu1').outputs[0]!;
    const model = join(work, 'cycle.onnx');
    writeFileSync(model, encodeModel(g));
    const out = join(work, 'out-cycle');
    const r = spawnCli('explain', '--model', model, '--input-npy', npy, '--method', 'gradient', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`backlight: ${model}: node 'relu1' (Relu) reads its own output; the graph must be acyclic\n`);
    expect(existsSync(out)).toBe(false);
  });
  it('a node name holding ESC[2J reaches stderr escaped', () => {
    const g = buildGraph(cnn);
    node(g, 'conv1').name = 'conv\x1b[2J\rX';
    node(g, 'conv\x1b[2J\rX').attrs.strides = intsAttr([0, 0]);
    const model = join(work, 'esc.onnx');
    writeFileSync(model, encodeModel(g));
    const out = join(work, 'out-esc');
    const r = spawnCli('explain', '--model', model, '--input-npy', npy, '--method', 'gradient', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`backlight: ${model}: node 'conv\\x1b[2J\\rX' (Conv): strides must be integers ≥ 1 (got [0, 0])\n`);
    expect(r.stderr).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('files and options the fuzz suite found (test/fuzz/)', () => {
  const work = mkdtempSync(join(tmpdir(), 'backlight-hostile-files-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const npyWith = (header: string, body = new Uint8Array(192 * 4)): Uint8Array => {
    const total = Math.ceil((10 + header.length + 1) / 64) * 64;
    const h = header.padEnd(total - 11, ' ') + '\n';
    const out = new Uint8Array(total + body.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, h.length, true);
    out.set(new TextEncoder().encode(h), 10);
    out.set(body, total);
    return out;
  };
  it('.npy headers are read as numpy reads them: a negative dimension, a repeated or unknown key are refused', () => {
    expect(() => decodeNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3, 8, 8), }"), 'x.npy')).toThrow(
      "x.npy: unreadable .npy header ('shape' must be a tuple of integers ≥ 0 (at '-1, 3, 8, 8)')); expected {'descr': '<f4', 'fortran_order': False, 'shape': (…)}",
    );
    expect(() => decodeNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 8, 8), 'shape': (1, 3, 8, 8), }"), 'x.npy')).toThrow(/key 'shape' given twice/);
    expect(() => decodeNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8), 'x': 1}"), 'x.npy')).toThrow(/unknown key 'x'/);
    expect(() => decodeNpy(npyWith("{'descr': '<f4', 'shape': (1, 3, 8, 8)}"), 'x.npy')).toThrow(/missing key 'fortran_order'/);
    const ok = decodeNpy(npyWith("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8), }"), 'x.npy');
    expect(ok.dims).toEqual([1, 3, 8, 8]);
  });
  it('an input whose logits overflow is reported, not written as NaN', async () => {
    const g = buildGraph(cnn);
    (g.initializers.get('conv1.weight')!.data as Float32Array).fill(1);
    const ex = await Explainer.load(encodeModel(g));
    const huge = { data: new Float32Array(x.data.length).fill(3e38), dims: x.dims };
    await expect(ex.explain(huge, { method: 'gradient' })).rejects.toThrow(/^method 'gradient': the logits hold (NaN|-?Infinity) at index \d+; the forward pass first stops being finite at tensor '/);
    await expect(ex.predict(huge)).rejects.toThrow(/^the logits hold (NaN|-?Infinity) at index \d+; the forward pass is not finite/);
  });
  it('images that would decode to something else: a float32 TIFF, an SVG with an external reference', async () => {
    const { decodeRGBA } = await import('../src/io/image.js');
    const sharp = (await import('sharp')).default;
    const tiff = floatTiff(4, 4, () => 0.5);
    await expect(decodeRGBA(tiff, 'f.tif')).rejects.toThrow("cannot decode image 'f.tif': its samples are 'float' (tiff); only 8- and 16-bit integer images are read, since other ranges have no agreed mapping to 0…255 (convert the file, or pass the preprocessed tensor with --input-npy)");
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="8" height="8"><image xlink:href="file:///etc/passwd" width="8" height="8"/></svg>');
    await expect(decodeRGBA(svg, 'x.svg')).rejects.toThrow("cannot decode image 'x.svg': the SVG references 'file:///etc/passwd'; SVG files with external references are not read (embed images as data: URLs)");
  });
  it("--crop 1000000000, --out '', --threads 1000000000 (explain and eval) are usage errors", async () => {
    const model = join(work, 'm.onnx');
    writeFileSync(model, encodeModel(buildGraph(cnn)));
    const npy = join(work, 'x.npy');
    writeFileSync(npy, encodeNpy(x.data, x.dims));
    const png = join(work, 'p.png');
    const sharp = (await import('sharp')).default;
    await sharp(Buffer.alloc(10 * 6 * 3, 90), { raw: { width: 10, height: 6, channels: 3 } }).png().toFile(png);
    const crop = await cli('explain', '--model', model, '--image', png, '--crop', '1000000000', '--out', join(work, 'o1'));
    expect(crop.code).toBe(2);
    expect(crop.stderr).toBe(`backlight: image '${png}': resizing its 10×6 pixels so the shorter side is 1000000000 gives 1666666666×1000000000 pixels, more than 268435456 (2^28); use a crop size near the input size (e.g. 256 for 224)\n`);
    expect(existsSync(join(work, 'o1'))).toBe(false);
    const out = await cli('explain', '--model', model, '--input-npy', npy, '--out', '');
    expect(out).toEqual({ code: 2, stdout: '', stderr: "backlight: --out '' names no folder: give the output folder, e.g. --out results\n" });
    const threads = await cli('explain', '--model', model, '--input-npy', npy, '--threads', '1000000000', '--out', join(work, 'o2'));
    expect(threads).toEqual({ code: 2, stdout: '', stderr: "backlight: --threads '1000000000' is more than 1024, the most threads a session may use\n" });
    const evalThreads = await cli('eval', 'pointing', '--model', model, '--data', work, '--threads', '1000000000', '--out', join(work, 'o3'));
    expect(evalThreads).toEqual({ code: 2, stdout: '', stderr: "backlight: --threads '1000000000' is more than 1024, the most threads a session may use\n" });
    await expect(Explainer.load(encodeModel(buildGraph(cnn)), { threads: 1e9 }).then((e) => e.explain(x, { method: 'gradient' }))).rejects.toThrow('threads must be an integer from 1 to 1024 (got 1000000000)');
  });
});
