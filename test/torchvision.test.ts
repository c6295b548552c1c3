/**
 * torchvision classifiers exported as users export them (torch.onnx.export at opset 13 and 17,
 * static and dynamic batch; seeded random weights), by test/torchvision/export_models.py with
 * Debian's python3-torch. Each is explained through the public API and compared with PyTorch's
 * float64 autograd: the gradient, and Guided Backprop and DeconvNet with every rectifier gated
 * (nn.ReLU modules and functional relu/relu6/hardtanh calls alike).
 *
 * CI runs a fixed sample (TORCHVISION_SAMPLE); `BACKLIGHT_TORCHVISION=all` runs every family
 * (`npm run test:torchvision`). Skipped, with a note, where Debian's python3 has no torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { relL2 } from './helpers/compare.js';
import { REPO } from './helpers/paths.js';

const PYTHON = '/usr/bin/python3';
const ALL = [
  'alexnet', 'vgg11', 'vgg11_bn', 'resnet18', 'resnext50_32x4d', 'wide_resnet50_2', 'densenet121', 'squeezenet1_1', 'googlenet',
  'inception_v3', 'shufflenet_v2_x0_5', 'mobilenet_v2', 'mobilenet_v3_small', 'mnasnet0_5', 'efficientnet_b0', 'efficientnet_v2_s',
  'regnet_x_400mf', 'regnet_y_400mf', 'convnext_tiny', 'vit', 'swin',
];
/** The CI sample: the blocks this suite exists for (SE gates, SiLU/Hardswish, LayerNorm/GELU, attention, ReduceMean, channel shuffle). */
const TORCHVISION_SAMPLE = ['mobilenet_v3_small', 'efficientnet_b0', 'shufflenet_v2_x0_5', 'regnet_y_400mf', 'convnext_tiny', 'vit', 'swin', 'squeezenet1_1'];
const MODELS = process.env.BACKLIGHT_TORCHVISION === 'all' ? ALL : TORCHVISION_SAMPLE;

const HAS_TORCH = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0;
const CACHE = path.join(tmpdir(), 'backlight-torchvision');

interface Reference {
  model: string;
  input: number[];
  dims: number[];
  logits: number[];
  target: number;
  gradient: number[];
  'guided-backprop': number[];
  deconvnet: number[];
}

/** Exports the models whose files are not cached yet (one Python run). */
function ensureExported(models: readonly string[]): void {
  mkdirSync(CACHE, { recursive: true });
  const missing = models.filter((m) => !existsSync(path.join(CACHE, `${m}.json`)));
  if (missing.length === 0) return;
  const run = spawnSync(PYTHON, [path.join(REPO, 'test', 'torchvision', 'export_models.py'), CACHE, ...missing], { encoding: 'utf8', timeout: 1_800_000 });
  if (run.status !== 0) throw new Error(`export_models.py failed: ${run.stderr.slice(-2000)}`);
}

const variantsOf = (ref: Reference): string[] => (ref.dims[2]! >= 224 ? ['op17'] : ['op13', 'op17', 'op17dyn']);

describe.skipIf(!HAS_TORCH)('torchvision classifiers against PyTorch float64 autograd', () => {
  if (HAS_TORCH) ensureExported(MODELS);
  for (const model of MODELS) {
    describe(model, () => {
      const ref = HAS_TORCH ? (JSON.parse(readFileSync(path.join(CACHE, `${model}.json`), 'utf8')) as Reference) : undefined;
      for (const variant of ref ? variantsOf(ref) : []) {
        it(`${variant}: logits, gradient, Guided Backprop and DeconvNet within 1e-4 of torch`, async () => {
          const ex = await Explainer.load(path.join(CACHE, `${model}-${variant}.onnx`));
          const x = { data: Float32Array.from(ref!.input), dims: ref!.dims };
          for (const method of ['gradient', 'guided-backprop', 'deconvnet'] as const) {
            const r = await ex.explain(x, { method, target: ref!.target });
            if (method === 'gradient') expect(relL2(r.logits.data, ref!.logits)).toBeLessThan(1e-5);
            expect(relL2(r.attribution.data, ref![method]), method).toBeLessThan(1e-4);
          }
          // Every LRP method runs on the model and gives a finite map.
          for (const method of ['lrp-epsilon', 'lrp', 'clrp1', 'excitation'] as const) {
            const r = await ex.explain(x, { method, target: ref!.target, params: { box: { low: [-3], high: [3] } } });
            expect(r.attribution.data.every(Number.isFinite), method).toBe(true);
          }
        });
      }
    });
  }
});
