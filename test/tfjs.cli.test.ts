/**
 * The command line with TF.js models: `explain --model model.json`, `backlight convert` (its ONNX
 * output runs in onnxruntime-node with tfjs's logits, and explains to the same files), `eval`, and
 * the refusals as one line with their exit codes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Explainer, shardsBeside } from '../src/index.js';
import { encodeModel } from '../src/onnx/encode.js';
import { importTfjsModel, onnxFromFiles } from '../src/tfjs/import.js';
import { loadImage } from '../src/io/loadImage.js';
import { preprocess } from '../src/io/preprocessImage.js';
import { cli, listFiles, readNpy } from './helpers/cli.js';
import { relL2 } from './helpers/compare.js';
import { runOrt } from './helpers/ort.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

const TMP = mkdtempSync(path.join(tmpdir(), 'backlight-tfjs-cli-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const JSON_PATH = shared('models', 'mobilenet-v1-0.25-imagenet-tfjs', 'mobilenet_model.json');
const IMAGE = shared('images', 'coffee.png');

describe.skipIf(!HAS_SHARED)('CLI with the shared TF.js MobileNet', () => {
  const onnx = path.join(TMP, 'mobilenet.onnx');

  it('explain --model model.json --preset imagenet-tf, then convert and explain the .onnx: equal .npy files', async () => {
    const args = ['--image', IMAGE, '--preset', 'imagenet-tf', '--method', 'gradient,guided-backprop,lrp', '--target', 'max', '--quiet'];
    const a = await cli('explain', '--model', JSON_PATH, ...args, '--out', path.join(TMP, 'from-json'));
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const c = await cli('convert', JSON_PATH, '--out', onnx);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe(`${onnx}: 90 nodes, input 'input_1' [N, 224, 224, 3], output 'act_softmax' [N, 1000]\n`);
    const b = await cli('explain', '--model', onnx, ...args, '--out', path.join(TMP, 'from-onnx'));
    expect(b.code).toBe(0);
    const files = listFiles(path.join(TMP, 'from-json', 'coffee')).filter((f) => f.endsWith('.npy'));
    // espresso (967), as the shared README's MobileNetV2 reads the photo.
    expect(files).toEqual(['gradient__967.npy', 'guided-backprop__967.npy', 'logits.npy', 'lrp__967.npy']);
    for (const f of files) {
      const x = readNpy(path.join(TMP, 'from-json', 'coffee', f));
      const y = readNpy(path.join(TMP, 'from-onnx', 'coffee', f));
      expect(y.dims).toEqual(x.dims);
      expect(relL2(y.data, x.data)).toBeLessThan(1e-6);
    }
  });

  it("the converted model runs in onnxruntime-node: its probabilities are the softmax of Backlight's logits", async () => {
    const x = preprocess(await loadImage(IMAGE), { preset: 'imagenet-tf', layout: 'nhwc' }).tensor;
    const probs = await runOrt(readFileSync(onnx), x.data, x.dims);
    const logits = (await (await Explainer.load(JSON_PATH)).predict(x)).data;
    const max = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - max));
    const sum = e.reduce((s, v) => s + v, 0);
    expect(relL2(probs, e.map((v) => v / sum))).toBeLessThan(1e-5);
  });

  it('convert --input-layout nchw takes [N, 3, 224, 224] with the same logits', async () => {
    const nchw = path.join(TMP, 'mobilenet-nchw.onnx');
    expect((await cli('convert', JSON_PATH, '--out', nchw, '--input-layout', 'nchw', '--quiet')).code).toBe(0);
    const x = preprocess(await loadImage(IMAGE), { preset: 'imagenet-tf', layout: 'nhwc' }).tensor;
    const xc = preprocess(await loadImage(IMAGE), { preset: 'imagenet-tf', layout: 'nchw' }).tensor;
    const a = await runOrt(readFileSync(onnx), x.data, x.dims);
    const b = await runOrt(readFileSync(nchw), xc.data, xc.dims);
    expect(relL2(b, a)).toBeLessThan(1e-6);
  });

  it('examples/tfjs.ts runs and prints what it says', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/tfjs.ts'], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('input ["N",224,224,3]\n967 espresso p=0.930\n968 cup p=0.013\n504 coffee mug p=0.006\ngradient [1,1,224,224,3] lrp map [1,1,224,224]\n');
  });

  it('eval pointing takes the model.json (imported NCHW, as eval feeds it)', async () => {
    const out = path.join(TMP, 'eval');
    const r = await cli('eval', 'pointing', '--model', JSON_PATH, '--data', shared('data', 'imagenet-val-1300'), '--preset', 'imagenet-tf', '--limit', '2', '--method', 'gradient', '--out', out, '--quiet');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(listFiles(out)).toContain('summary.json');
  });
});

describe.skipIf(!HAS_SHARED)('dropped files (the page and `backlight/web`)', () => {
  const dir = path.dirname(JSON_PATH);
  const all = (): [string, Uint8Array][] => {
    const j = JSON.parse(readFileSync(JSON_PATH, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    return [['mobilenet_model.json', readFileSync(JSON_PATH)], ...j.weightsManifest.flatMap((g) => g.paths).map((p): [string, Uint8Array] => [p, readFileSync(path.join(dir, p))])];
  };

  it('model.json and its shards (as File objects, in any order) become the ONNX model `convert` writes', async () => {
    const files = all().reverse().map(([name, bytes]) => new File([new Uint8Array(bytes)], name));
    const m = await onnxFromFiles(files.map((f) => [f.name, f] as const));
    expect(m.name).toBe('mobilenet_model.json');
    const x = preprocess(await loadImage(IMAGE), { preset: 'imagenet-tf', layout: 'nhwc' }).tensor;
    const graph = await importTfjsModel(readFileSync(JSON_PATH, 'utf8'), shardsBeside(JSON_PATH), 'mobilenet_model.json');
    expect(Buffer.from(m.bytes).equals(Buffer.from(encodeModel(graph, 'backlight convert')))).toBe(true);
    const probs = await runOrt(m.bytes, x.data, x.dims);
    expect(probs.indexOf(Math.max(...probs))).toBe(967);
  });

  it('a missing shard, two models, and an ONNX file alone', async () => {
    const files = all().filter(([name]) => name !== 'mobilenet_group7-shard1of1');
    await expect(onnxFromFiles(files)).rejects.toThrow("mobilenet_model.json: weight shard 'mobilenet_group7-shard1of1' is not among the dropped files; drop model.json together with all its shards");
    await expect(onnxFromFiles([...files, ['other.json', new Uint8Array([123, 125])]])).rejects.toThrow(
      'the dropped files hold 2 .json and 0 .onnx files; give one .onnx model, or one TF.js model.json with its weight shards',
    );
    const onnxBytes = readFileSync(shared('models', 'resnet20-cifar10.onnx'));
    expect((await onnxFromFiles([['resnet20.onnx', onnxBytes]])).bytes).toBe(onnxBytes);
  });
});

describe('CLI refusals with TF.js models', () => {
  it('convert: a missing file, a bad json and a bad layout, one line each with exit 1 or 2', async () => {
    const missing = await cli('convert', path.join(TMP, 'nope.json'), '--out', path.join(TMP, 'x.onnx'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`backlight: cannot read model file '${path.join(TMP, 'nope.json')}': ENOENT\n`);
    const bad = path.join(TMP, 'bad.json');
    writeFileSync(bad, '{"modelTopology": {"class_name": "Sequential", "config": []}, "weightsManifest": []}');
    const r = await cli('convert', bad, '--out', path.join(TMP, 'x.onnx'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`backlight: ${bad}: the Sequential model has no layers\n`);
    const u = await cli('convert', bad, '--out', path.join(TMP, 'x.onnx'), '--input-layout', 'hwc');
    expect(u.code).toBe(2);
    expect(u.stderr).toBe("backlight: --input-layout must be nhwc or nchw, got 'hwc'\n");
    expect(listFiles(TMP).includes('x.onnx')).toBe(false);
  });
});
