/**
 * `backlight explain` with the layer-map methods (Grad-CAM, NormGrad, …), the layer options
 * (--layer, --list-layers, …) and --meta-lr: the files equal the library's arrays.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/index.js';
import { run } from '../src/cli/program.js';
import { Explainer } from '../src/index.js';
import { encodeNpy } from '../src/io/npy.js';
import type { LayerInfo } from '../src/methods/framework.js';
import type { TensorLike } from '../src/methods/explainer.js';
import { cli, readNpy, slot } from './helpers/cli.js';

let work: string;
let model: string;
let x: string;
let input: TensorLike;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'backlight-cli-framework-'));
  model = join(work, 'cnn3.onnx');
  writeFileSync(model, buildModel({ model: 'cnn3', inputSize: 16, filters: 4, kernel: 3, stride: 1, pad: 1, maxPool: true, classes: 3, channels: 1, seed: 3, bias: 'random' } as Parameters<typeof buildModel>[0]));
  const data = new Float32Array(16 * 16).map((_, i) => Math.sin(i * 0.37) + 0.2);
  input = { data, dims: [1, 1, 16, 16] };
  x = join(work, 'x.npy');
  writeFileSync(x, encodeNpy(data, [1, 1, 16, 16]));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('explain: layer-map methods', () => {
  it('gradcam writes the upsampled map and the raw layer map, equal to the API', async () => {
    const out = join(work, 'gradcam');
    const r = await cli('explain', '--model', model, '--input-npy', x, '--method', 'gradcam,normgrad', '--target', 'max', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const explainer = await Explainer.load(model);
    const layer = explainer.defaultLayer([1, 1, 16, 16]);
    for (const method of ['gradcam', 'normgrad'] as const) {
      const api = await explainer.explain(input, { method, target: 'max' });
      const c = api.targets[0]![0]!;
      const att = readNpy(join(out, 'x', `${method}__${c}.npy`));
      expect(att.dims).toEqual([1, 1, 16, 16]);
      expect(Array.from(att.data)).toEqual(Array.from(slot(api.attribution, 0)));
      const maps = api.layerMaps[layer]![method]!;
      expect(Array.from(att.data)).toEqual(Array.from(slot(maps.upsampled, 0)));
      const raw = readNpy(join(out, 'x', `${method}__${c}__${layer.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`));
      expect(raw.dims).toEqual([1, 1, maps.raw.dims[2], maps.raw.dims[3]]);
      expect(Array.from(raw.data)).toEqual(Array.from(slot(maps.raw, 0)));
      expect(existsSync(join(out, 'x', `${method}__${c}.png`))).toBe(true);
      expect(existsSync(join(out, 'x', `${method}__${c}_overlay.png`))).toBe(true);
    }
    expect(existsSync(join(out, 'x', 'grid.png'))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.methods).toEqual(['gradcam', 'normgrad']);
  });

  it('--layer takes a named tensor; --list-layers prints the layers and writes nothing', async () => {
    const explainer = await Explainer.load(model);
    const layers: LayerInfo[] = explainer.layers([1, 1, 16, 16]);
    const list = await cli('explain', '--model', model, '--list-layers');
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(layers.length);
    for (const [i, l] of layers.entries()) expect(lines[i]!.startsWith(`${l.name}\t${l.op}\t`)).toBe(true);
    const json = await cli('explain', '--model', model, '--list-layers', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(layers);

    const layer = layers[0]!.name;
    expect(layer).not.toBe(explainer.defaultLayer([1, 1, 16, 16]));
    const out = join(work, 'layer');
    const r = await cli('explain', '--model', model, '--input-npy', x, '--method', 'gradcam', '--layer', layer, '--target', '0', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const api = await explainer.explain(input, { method: 'gradcam', target: 0, layer });
    expect(Array.from(readNpy(join(out, 'x', 'gradcam__0.npy')).data)).toEqual(Array.from(slot(api.attribution, 0)));
    const raw = readNpy(join(out, 'x', `gradcam__0__${layer.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`));
    expect(Array.from(raw.data)).toEqual(Array.from(slot(api.layerMaps[layer]!.gradcam!.raw, 0)));
  });

  it('an unknown layer is a one-line usage error that points to --list-layers', async () => {
    const out = join(work, 'nolayer');
    const r = await cli('explain', '--model', model, '--input-npy', x, '--method', 'gradcam', '--layer', 'nope', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^backlight: unknown layer 'nope'.*--list-layers.*\n$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('--meta-lr with gradient equals the API with params.metaLearningRate; two targets are refused', async () => {
    const out = join(work, 'meta');
    const r = await cli('explain', '--model', model, '--input-npy', x, '--method', 'gradient', '--meta-lr', '0.01', '--target', '1', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const explainer = await Explainer.load(model);
    const api = await explainer.explain(input, { method: 'gradient', target: 1, params: { metaLearningRate: 0.01 } });
    const plain = await explainer.explain(input, { method: 'gradient', target: 1 });
    const got = readNpy(join(out, 'x', 'gradient__1.npy'));
    expect(Array.from(got.data)).toEqual(Array.from(slot(api.attribution, 0)));
    expect(Array.from(got.data)).not.toEqual(Array.from(slot(plain.attribution, 0)));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.params.gradient).toEqual({ metaLearningRate: 0.01 });

    const two = await cli('explain', '--model', model, '--input-npy', x, '--method', 'gradient', '--meta-lr', '0.01', '--target', '0,1', '--out', join(work, 'meta2'));
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/^backlight: --meta-lr explains one target per run.*\n$/);
    expect(existsSync(join(work, 'meta2'))).toBe(false);
  });
});
