/**
 * Layer maps on transformer tokens: tokens [N, 1 + h·w, D] (ViT, class token first), [N, h·w, D],
 * and channels-last grids [N, h, w, C] (Swin) are viewed as [N, D, h, w] (class token dropped, as
 * pytorch-grad-cam's `reshape_transform`), then aggregated as a conv layer. Every aggregation is
 * checked against a plain TypeScript computation from the layer's activation and gradient (the
 * `act:`/`grad:` taps), reshaped here by hand; and the default layers of ViT and Swin.
 *
 * Two hand-built models run everywhere; torchvision's ViT and Swin (test/torchvision/
 * export_models.py, cached as test/torchvision.test.ts caches them) where Debian's python3 has torch.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { floatAttr, intAttr, intsAttr } from '../src/ir/graph.js';
import { AGGREGATIONS, type Aggregation } from '../src/methods/framework.js';
import { encodeModel } from '../src/onnx/encode.js';
import { relL2 } from './helpers/compare.js';
import { HAS_TORCH, TORCHVISION_CACHE, ensureExported } from './helpers/torchvision.js';
import { TinyGraphBuilder, randomInput } from './reference/tinyModels.js';

type Layout = { kind: 'tokens'; prefix: number; grid: [number, number] } | { kind: 'channels-last'; grid: [number, number] };
const HAND_AGGREGATIONS = AGGREGATIONS.filter((a): a is Exclude<Aggregation, 'normgrad-conv'> => a !== 'normgrad-conv');

/**
 * The raw maps [N, K, h, w] of every aggregation, from the activation (tokens or channels-last,
 * as the model holds it) and its gradient [N, K, …], by loops over the patch grid.
 */
function handMaps(act: Float32Array, actDims: readonly number[], grad: Float32Array, k: number, layout: Layout): { maps: Record<(typeof HAND_AGGREGATIONS)[number], Float64Array>; scale: Record<(typeof HAND_AGGREGATIONS)[number], number> } {
  const n = actDims[0]!;
  const d = actDims[actDims.length - 1]!;
  const [h, w] = layout.grid;
  const perImage = act.length / n;
  // Offset of channel c at patch (i, j) within one image's [T, D] or [h, w, C] tensor.
  const at = (i: number, j: number, c: number): number => ((layout.kind === 'tokens' ? layout.prefix : 0) + i * w + j) * d + c;
  const out = Object.fromEntries(HAND_AGGREGATIONS.map((a) => [a, new Float64Array(n * k * h * w)])) as Record<(typeof HAND_AGGREGATIONS)[number], Float64Array>;
  // The size of the terms each map sums: Σ_c x_c g_c can cancel to rounding noise (exactly 0 at a
  // LayerNorm's input, which the norm makes invariant to scaling and shifting its centred input).
  let camTerms = 0, linTerms = 0;
  for (let img = 0; img < n; img++)
    for (let t = 0; t < k; t++) {
      const A = (i: number, j: number, c: number): number => act[img * perImage + at(i, j, c)]!;
      const G = (i: number, j: number, c: number): number => grad[(img * k + t) * perImage + at(i, j, c)]!;
      const alpha = new Float64Array(d);
      for (let c = 0; c < d; c++) {
        for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) alpha[c]! += G(i, j, c);
        alpha[c]! /= h * w;
      }
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          let cam = 0, lin = 0, maxAbs = 0, x2 = 0, g2 = 0, sel = 0, camAbs = 0, linAbs = 0;
          for (let c = 0; c < d; c++) {
            const a = A(i, j, c), g = G(i, j, c);
            cam += alpha[c]! * a;
            lin += a * g;
            camAbs += Math.abs(alpha[c]! * a);
            linAbs += Math.abs(a * g);
            maxAbs = Math.max(maxAbs, Math.abs(g));
            x2 += a * a;
            g2 += g * g;
            sel += Math.max(0, a * g) ** 2;
          }
          const o = ((img * k + t) * h + i) * w + j;
          out.gradcam[o] = Math.max(0, cam);
          out['gradcam-raw'][o] = cam;
          out.linear[o] = lin;
          out.gradient[o] = maxAbs;
          out.normgrad[o] = Math.sqrt(x2) * Math.sqrt(g2);
          out['normgrad-selective'][o] = Math.sqrt(sel);
          camTerms = Math.max(camTerms, camAbs);
          linTerms = Math.max(linTerms, linAbs);
        }
    }
  const largest = (m: Float64Array): number => Math.max(...m.map(Math.abs));
  const scale = Object.fromEntries(HAND_AGGREGATIONS.map((a) => [a, largest(out[a])])) as Record<(typeof HAND_AGGREGATIONS)[number], number>;
  scale.gradcam = scale['gradcam-raw'] = camTerms;
  scale.linear = linTerms;
  return { maps: out, scale };
}

/** Explains at `layer` with every aggregation and compares each raw map with `handMaps`. */
async function checkLayer(ex: Explainer, x: { data: Float32Array; dims: number[] }, target: number[][] | number, layer: string, layout: Layout): Promise<void> {
  const r = await ex.explain(x, { method: 'gradcam', target, layer, aggregation: HAND_AGGREGATIONS, taps: [layer], reductions: [] });
  const tap = r.taps[layer]!;
  const k = r.targets[0]!.length;
  const { maps: want, scale } = handMaps(tap.activation.data, tap.activation.dims, tap.signal.data, k, layout);
  const n = x.dims[0]!;
  for (const a of HAND_AGGREGATIONS) {
    const m = r.layerMaps[layer]![a]!;
    expect(m.raw.dims, a).toEqual([n, k, ...layout.grid]);
    expect(m.upsampled.dims, a).toEqual([n, k, ...x.dims.slice(2)]);
    expect(scale[a], `${a}: the map is not trivially zero`).toBeGreaterThan(0);
    const worst = Math.max(...Array.from(m.raw.data, (v, i) => Math.abs(v - want[a][i]!)));
    expect(worst / scale[a], `${a} at ${layer}`).toBeLessThan(1e-5);
  }
  // Grad-CAM's map is the attribution (upsampled, one channel).
  expect(r.attribution.data).toEqual(r.layerMaps[layer]!.gradcam!.upsampled.data);
}

// ─────────────── hand-built models ───────────────

/**
 * A one-block ViT on a 12×8 input: 4×4 patches (a 3×2 grid) of width 5, a class token first,
 * LayerNorm → single-head attention (softmax(X Xᵀ) X) + residual, a ReLU MLP + residual, the final
 * LayerNorm, and the head on the class token.
 */
function tinyVit(): { bytes: Uint8Array; names: Record<'patches' | 'ln1' | 'block' | 'lnFinal', string> } {
  const N = 2, D = 5;
  const b = new TinyGraphBuilder('tiny_vit', [N, 3, 12, 8], 31);
  const conv = b.conv(b.input, 3, D, { kernel: [4, 4], strides: [4, 4], pads: [0, 0, 0, 0] });
  const patches = b.op('Transpose', [b.op('Reshape', [conv, b.intConst('shape', [3], [N, D, 6])])], { perm: intsAttr([0, 2, 1]) });
  const tokens = b.op('Concat', [b.randomWeight('cls', [N, 1, D], 0.5), patches], { axis: intAttr(1) });
  const x0 = b.op('Add', [tokens, b.randomWeight('pos', [1, 7, D], 0.5)]);
  const norm = (x: string): string => b.op('LayerNormalization', [x, b.randomRange('gamma', [D], 0.5, 1.5), b.randomWeight('beta', [D], 0.3)], { axis: intAttr(-1), epsilon: floatAttr(1e-5) });
  const ln1 = norm(x0);
  const scores = b.op('MatMul', [ln1, b.op('Transpose', [ln1], { perm: intsAttr([0, 2, 1]) })]);
  const attended = b.op('MatMul', [b.op('Softmax', [scores], { axis: intAttr(-1) }), ln1]);
  const x1 = b.op('Add', [x0, attended]);
  const hidden = b.op('Relu', [b.op('MatMul', [x1, b.randomWeight('w1', [D, 8], 0.8)])]);
  const block = b.op('Add', [x1, b.op('MatMul', [hidden, b.randomWeight('w2', [8, D], 0.6)])]);
  const lnFinal = norm(block);
  const cls = b.op('Gather', [lnFinal, b.intConst('index', [], [0])], { axis: intAttr(1) });
  const logits = b.op('Gemm', [cls, b.randomWeight('head', [3, D], 0.8), b.randomWeight('bias', [3], 0.1)], { transB: intAttr(1) });
  return { bytes: encodeModel(b.graphWithOutput(logits, [N, 3]), 'backlight-tests'), names: { patches, ln1, block, lnFinal } };
}

/**
 * A Swin-like stage on an 8×8 input: 2×2 patches of width 6 held channels-last [N, 4, 4, 6],
 * LayerNorm → token MLP + residual, the final LayerNorm, the permute to [N, 6, 4, 4], pooling, head.
 */
function tinySwin(): { bytes: Uint8Array; names: Record<'stage' | 'lnFinal' | 'permuted', string> } {
  const D = 6;
  const b = new TinyGraphBuilder('tiny_swin', [1, 3, 8, 8], 41);
  const conv = b.conv(b.input, 3, D, { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] });
  const x0 = b.op('Transpose', [conv], { perm: intsAttr([0, 2, 3, 1]) });
  const norm = (x: string): string => b.op('LayerNormalization', [x, b.randomRange('gamma', [D], 0.5, 1.5), b.randomWeight('beta', [D], 0.3)], { axis: intAttr(-1), epsilon: floatAttr(1e-5) });
  const mixed = b.op('Relu', [b.op('MatMul', [norm(x0), b.randomWeight('w', [D, D], 0.8)])]);
  const stage = b.op('Add', [x0, mixed]);
  const lnFinal = norm(stage);
  const permuted = b.op('Transpose', [lnFinal], { perm: intsAttr([0, 3, 1, 2]) });
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [permuted])]);
  const logits = b.op('Gemm', [pooled, b.randomWeight('head', [4, D], 0.8)], { transB: intAttr(1) });
  return { bytes: encodeModel(b.graphWithOutput(logits, [1, 4]), 'backlight-tests'), names: { stage, lnFinal, permuted } };
}

describe('layer maps on a hand-built ViT (class token, 3×2 patch grid of a 12×8 input)', async () => {
  const { bytes, names } = tinyVit();
  const ex = await Explainer.load(bytes);
  const x = { data: randomInput([2, 3, 12, 8], 7), dims: [2, 3, 12, 8] };
  const classToken: Layout = { kind: 'tokens', prefix: 1, grid: [3, 2] };

  it('lists the token layers with their layout', () => {
    const layers = ex.layers();
    const ln1 = layers.find((l) => l.name === names.ln1)!;
    expect(ln1).toEqual({ name: names.ln1, op: 'LayerNormalization', shape: [2, 7, 5], layout: 'tokens [N, 1 + 3·2, D]: 3×2 patch grid, class token dropped' });
    expect(layers.find((l) => l.name === names.patches)).toEqual({ name: names.patches, op: 'Transpose', shape: [2, 6, 5], layout: 'tokens [N, 3·2, D]: 3×2 patch grid' });
    // Attention scores [N, T, T] are tokens too (one row per query token).
    expect(layers.filter((l) => l.shape.length === 3).every((l) => l.layout?.startsWith('tokens'))).toBe(true);
  });

  it("the default layer is the last attention's LayerNorm output", () => {
    expect(ex.defaultLayer()).toBe(names.ln1);
  });

  it('every aggregation at the default layer equals the hand computation, K = 2', async () => {
    await checkLayer(ex, x, [[0, 2], [1, 0]], names.ln1, classToken);
  });

  it('and at the patch tokens before the class token is prepended, and at the block output', async () => {
    await checkLayer(ex, x, [[2], [1]], names.patches, { kind: 'tokens', prefix: 0, grid: [3, 2] });
    // After the last attention only the class token reaches the logits: zero gradient on patches.
    const r = await ex.explain(x, { method: 'gradcam', target: 0, layer: names.block, aggregation: 'normgrad' });
    expect(r.layerMaps[names.block]!.normgrad!.raw.data.every((v) => v === 0)).toBe(true);
  });

  it('normgrad-conv refuses a token layer', async () => {
    await expect(ex.explain(x, { method: 'normgrad-conv', target: 0, layer: names.ln1 })).rejects.toThrow(/output of a Conv/);
  });
});

describe('layer maps on a hand-built Swin-like stage (channels-last 4×4 grid)', async () => {
  const { bytes, names } = tinySwin();
  const ex = await Explainer.load(bytes);
  const x = { data: randomInput([1, 3, 8, 8], 9), dims: [1, 3, 8, 8] };

  it('lists the channels-last layers; the default is the stage output before the final norm', () => {
    const stage = ex.layers().find((l) => l.name === names.stage)!;
    expect(stage).toEqual({ name: names.stage, op: 'Add', shape: [1, 4, 4, 6], layout: 'channels-last [N, h, w, C], 4×4 grid' });
    expect(ex.layers().find((l) => l.name === names.permuted)).toEqual({ name: names.permuted, op: 'Transpose', shape: [1, 6, 4, 4] });
    expect(ex.defaultLayer()).toBe(names.stage);
  });

  it('every aggregation equals the hand computation', async () => {
    await checkLayer(ex, x, [[1, 3]], names.stage, { kind: 'channels-last', grid: [4, 4] });
  });

  it('the channels-last layer and its permute to [N, C, h, w] give the same maps', async () => {
    const a = await ex.explain(x, { method: 'gradcam', target: 1, layer: names.lnFinal, aggregation: 'normgrad' });
    const b = await ex.explain(x, { method: 'gradcam', target: 1, layer: names.permuted, aggregation: 'normgrad' });
    for (const agg of ['gradcam', 'normgrad'] as const) {
      expect(relL2(a.layerMaps[names.lnFinal]![agg]!.raw.data, b.layerMaps[names.permuted]![agg]!.raw.data), agg).toBeLessThan(1e-6);
    }
  });
});

// ─────────────── torchvision ViT and Swin ───────────────

const CACHE = TORCHVISION_CACHE;


describe.skipIf(!HAS_TORCH)('layer maps on torchvision ViT and Swin', () => {
  if (HAS_TORCH) ensureExported(['vit', 'swin']);
  const cases = [
    { model: 'vit', variant: 'op17', layer: '/encoder/layers/encoder_layer_1/ln_1/LayerNormalization_output_0', layout: { kind: 'tokens', prefix: 1, grid: [4, 4] } },
    // Below opset 17 the exporter writes the LayerNorm out; its last node is the default.
    { model: 'vit', variant: 'op13', layer: '/encoder/layers/encoder_layer_1/ln_1/Add_1_output_0', layout: { kind: 'tokens', prefix: 1, grid: [4, 4] } },
    { model: 'swin', variant: 'op17', layer: '/features/features.3/features.3.1/Add_1_output_0', layout: { kind: 'channels-last', grid: [4, 4] } },
    { model: 'swin', variant: 'op13', layer: '/features/features.3/features.3.1/Add_1_output_0', layout: { kind: 'channels-last', grid: [4, 4] } },
  ] as const;
  for (const c of cases) {
    it(`${c.model} ${c.variant}: the default layer, and every aggregation there equals the hand computation`, async () => {
      const ref = JSON.parse(readFileSync(path.join(CACHE, `${c.model}.json`), 'utf8')) as { input: number[]; dims: number[]; target: number };
      const ex = await Explainer.load(path.join(CACHE, `${c.model}-${c.variant}.onnx`));
      expect(ex.defaultLayer(ref.dims)).toBe(c.layer);
      const x = { data: Float32Array.from(ref.input), dims: ref.dims };
      await checkLayer(ex, x, ref.target, c.layer, { ...c.layout, grid: [...c.layout.grid] } as Layout);
    });
  }
});
