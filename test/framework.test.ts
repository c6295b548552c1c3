/**
 * Rebuffi et al.'s extraction × aggregation framework: Grad-CAM and Guided Grad-CAM against Captum
 * (../shared/reference, skipped when absent), and every in-graph aggregation, upsampling,
 * multi-layer combination and conv NormGrad patch norm against straightforward loops over the
 * act/grad taps of the same run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGGREGATIONS, type Aggregation } from '../src/compile/aggregate.js';
import { GraphBuilder, buildModel } from '../src/builder/index.js';
import { Explainer } from '../src/index.js';
import { intsAttr } from '../src/ir/graph.js';
import { decodeNpy } from '../src/io/npy.js';
import { decodeModel } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';
import { defaultConvLayer, defaultLayer } from '../src/methods/framework.js';
import { METHOD_NAMES } from '../src/methods/methods.js';
import type { ExplainMethodName, Explanation, TensorLike } from '../src/methods/explainer.js';
import { relL2 } from './helpers/compare.js';
import { HAS_SHARED, shared } from './helpers/paths.js';

const HAS_REFERENCE = HAS_SHARED && (() => {
  try {
    readFileSync(shared('reference', 'smallvgg', 'in0_t8_guided_gradcam.npy'));
    return true;
  } catch {
    return false;
  }
})();

// ---------------------------------------------------------------------------------------------
// Independent references: plain loops over [N, C, h, w] activations and [N, K, C, h, w] signals.

type Dims4 = [number, number, number, number];

/** The aggregation at every location, [N, K, h, w]. */
function aggregateLoop(a: Exclude<Aggregation, 'normgrad-conv'>, act: TensorLike, grad: TensorLike): Float64Array {
  const [n, c, h, w] = act.dims as Dims4;
  const k = grad.dims[1]!;
  const x = (i: number, ch: number, p: number): number => act.data[(i * c + ch) * h * w + p]!;
  const g = (i: number, j: number, ch: number, p: number): number => grad.data[((i * k + j) * c + ch) * h * w + p]!;
  const out = new Float64Array(n * k * h * w);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) {
      const mean = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        for (let p = 0; p < h * w; p++) mean[ch]! += g(i, j, ch, p);
        mean[ch]! /= h * w;
      }
      for (let p = 0; p < h * w; p++) {
        let v = 0;
        let xx = 0;
        let gg = 0;
        for (let ch = 0; ch < c; ch++) {
          const xv = x(i, ch, p);
          const gv = g(i, j, ch, p);
          switch (a) {
            case 'gradient': v = Math.max(v, Math.abs(gv)); break;
            case 'linear': v += xv * gv; break;
            case 'gradcam': case 'gradcam-raw': v += xv * mean[ch]!; break;
            case 'normgrad': xx += xv * xv; gg += gv * gv; break;
            case 'normgrad-selective': v += Math.max(0, xv * gv) ** 2; break;
          }
        }
        if (a === 'gradcam') v = Math.max(0, v);
        if (a === 'normgrad') v = Math.sqrt(xx) * Math.sqrt(gg);
        if (a === 'normgrad-selective') v = Math.sqrt(v);
        out[(i * k + j) * h * w + p] = v;
      }
    }
  }
  return out;
}

interface ConvGeometry { kernel: [number, number]; stride: [number, number]; pads: [number, number, number, number]; dilation: [number, number]; groups: number }

/**
 * Conv NormGrad by its definition: the Frobenius norm of the weight gradient at location u,
 * sqrt(Σ_groups ‖g_u,group‖² · ‖patch_u,group(x_in)‖²), the patch read element by element.
 */
function convNormgradLoop(xin: TensorLike, grad: TensorLike, geo: ConvGeometry): Float64Array {
  const [n, cin, hin, win] = xin.dims as Dims4;
  const [, k, cout, h, w] = grad.dims as [number, number, number, number, number];
  const out = new Float64Array(n * k * h * w);
  const cg = cin / geo.groups;
  const og = cout / geo.groups;
  for (let i = 0; i < n; i++) {
    for (let oy = 0; oy < h; oy++) {
      for (let ox = 0; ox < w; ox++) {
        const patch2 = new Float64Array(geo.groups);
        for (let grp = 0; grp < geo.groups; grp++) {
          for (let ch = grp * cg; ch < (grp + 1) * cg; ch++) {
            for (let dy = 0; dy < geo.kernel[0]; dy++) {
              for (let dx = 0; dx < geo.kernel[1]; dx++) {
                const y = oy * geo.stride[0] - geo.pads[0] + dy * geo.dilation[0];
                const xx = ox * geo.stride[1] - geo.pads[1] + dx * geo.dilation[1];
                if (y < 0 || y >= hin || xx < 0 || xx >= win) continue;
                patch2[grp]! += xin.data[((i * cin + ch) * hin + y) * win + xx]! ** 2;
              }
            }
          }
        }
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let grp = 0; grp < geo.groups; grp++) {
            let g2 = 0;
            for (let o = grp * og; o < (grp + 1) * og; o++) g2 += grad.data[(((i * k + j) * cout + o) * h + oy) * w + ox]! ** 2;
            s += g2 * patch2[grp]!;
          }
          out[((i * k + j) * h + oy) * w + ox] = Math.sqrt(s);
        }
      }
    }
  }
  return out;
}

/** PyTorch's F.interpolate on the last two axes: 'bilinear' with align_corners=False, or 'nearest'. */
function upsampleLoop(map: ArrayLike<number>, dims: Dims4, size: [number, number], mode: 'bilinear' | 'nearest'): Float64Array {
  const [n, k, h, w] = dims;
  const [oh, ow] = size;
  const out = new Float64Array(n * k * oh * ow);
  const src = (o: number, inSize: number, outSize: number): [number, number, number] => {
    if (mode === 'nearest') return [Math.min(Math.floor((o * inSize) / outSize), inSize - 1), 0, 0];
    const s = Math.max(0, ((o + 0.5) * inSize) / outSize - 0.5);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    return [i0, Math.min(i0 + 1, inSize - 1), s - i0];
  };
  for (let b = 0; b < n * k; b++) {
    for (let y = 0; y < oh; y++) {
      const [y0, y1, ly] = src(y, h, oh);
      for (let x = 0; x < ow; x++) {
        const [x0, x1, lx] = src(x, w, ow);
        const at = (yy: number, xx: number): number => map[(b * h + yy) * w + xx]!;
        out[(b * oh + y) * ow + x] = mode === 'nearest'
          ? at(y0, x0)
          : (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
      }
    }
  }
  return out;
}

/** Min-max normalization per image and target, then Σ w_l ŝ_l or Π ŝ_l^{w_l}. */
function combineLoop(maps: ArrayLike<number>[], nk: number, mode: 'sum' | 'product', weights: number[]): Float64Array {
  const size = maps[0]!.length / nk;
  const out = new Float64Array(maps[0]!.length).fill(mode === 'sum' ? 0 : 1);
  maps.forEach((m, l) => {
    for (let b = 0; b < nk; b++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let p = 0; p < size; p++) {
        lo = Math.min(lo, m[b * size + p]!);
        hi = Math.max(hi, m[b * size + p]!);
      }
      const range = Math.max(hi - lo, 1e-12);
      for (let p = 0; p < size; p++) {
        const v = (m[b * size + p]! - lo) / range;
        if (mode === 'sum') out[b * size + p]! += weights[l]! * v;
        else out[b * size + p]! *= v ** weights[l]!;
      }
    }
  });
  return out;
}

const wave = (length: number, seed: number): Float32Array =>
  new Float32Array(length).map((_, i) => Math.sin(i * 0.37 + seed) + 0.5 * Math.cos(i * 0.013 * (seed + 1)));

// ---------------------------------------------------------------------------------------------

describe.skipIf(!HAS_REFERENCE)('Grad-CAM and Guided Grad-CAM vs Captum (smallvgg)', async () => {
  const npy = (f: string) => decodeNpy(readFileSync(shared('reference', 'smallvgg', f)));
  const ex = HAS_REFERENCE ? await Explainer.load(shared('reference', 'smallvgg.onnx')) : undefined;
  const x = HAS_REFERENCE ? npy('in0_input.npy') : undefined;
  const manifest = HAS_REFERENCE ? (JSON.parse(readFileSync(shared('reference', 'manifest.json'), 'utf8')) as { models: Record<string, { gradcam_layer_onnx_tensor: string }> }) : undefined;
  const LAYER = '/0/0.8/Relu_output_0';

  it("the default layer is the manifest's Grad-CAM layer (the ReLU before the last MaxPool)", () => {
    expect(manifest!.models.smallvgg!.gradcam_layer_onnx_tensor).toBe(LAYER);
    expect(ex!.defaultLayer()).toBe(LAYER);
    const info = ex!.layers().find((l) => l.name === LAYER);
    expect(info).toEqual({ name: LAYER, op: 'Relu', shape: [1, 32, 32, 32] });
  });

  for (const t of [8, 7]) {
    it(`gradcam (ReLU) and gradcam-raw at the layer, target ${t}`, async () => {
      const r = await ex!.explain(x!, { method: 'gradcam', target: t, aggregation: 'gradcam-raw' });
      expect(r.targets).toEqual([[t]]);
      const maps = r.layerMaps[LAYER]!;
      expect(maps.gradcam!.raw.dims).toEqual([1, 1, 32, 32]);
      // Captum's LayerGradCam(relu_attributions=True) / (False): no upsampling.
      const relu = npy(`in0_t${t}_gradcam_relu.npy`).data;
      const raw = npy(`in0_t${t}_gradcam.npy`).data;
      expect(relL2(maps.gradcam!.raw.data, relu)).toBeLessThan(1e-4);
      expect(relL2(maps['gradcam-raw']!.raw.data, raw)).toBeLessThan(1e-4);
      // The attribution is the bilinearly upsampled ReLU map, [N, K, 1, H, W].
      expect(r.attribution.dims).toEqual([1, 1, 1, 64, 64]);
      expect(relL2(r.attribution.data, upsampleLoop(relu, [1, 1, 32, 32], [64, 64], 'bilinear'))).toBeLessThan(1e-4);
      expect(r.maps.maxabs!.dims).toEqual([1, 1, 64, 64]);
    });

    it(`guided-gradcam = Guided Backprop ⊙ nearest-upsampled Grad-CAM, target ${t}`, async () => {
      const r = await ex!.explain(x!, { method: 'guided-gradcam', target: t });
      expect(r.attribution.dims).toEqual([1, 1, 3, 64, 64]);
      expect(relL2(r.attribution.data, npy(`in0_t${t}_guided_gradcam.npy`).data)).toBeLessThan(1e-4);
      expect(relL2(r.layerMaps[LAYER]!.gradcam!.raw.data, npy(`in0_t${t}_gradcam_relu.npy`).data)).toBeLessThan(1e-4);
    });
  }

  it('the ReLU matters for the reference (t7 has negative raw Grad-CAM values)', () => {
    const raw = npy('in0_t7_gradcam.npy').data;
    expect(Math.min(...raw)).toBeLessThan(0);
  });
});

describe('framework aggregations vs loops over the taps (ResNet depth 8, N = 2, K = 2)', async () => {
  const ex = await Explainer.load(buildModel({ model: 'resnetSmall', depth: 8, seed: 2 }));
  const dims = [2, 3, 32, 32];
  const x: TensorLike = { data: wave(2 * 3 * 32 * 32, 1), dims };
  // 'max' among the given class: a non-identity slot order, so layer maps are reordered too.
  const target: ['max', number] = ['max', 3];
  const layers = ['layer1.0.relu2', 'layer2.0.relu2', 'layer3.0.relu2'];
  const plain = AGGREGATIONS.filter((a): a is Exclude<Aggregation, 'normgrad-conv'> => a !== 'normgrad-conv');

  const checkAll = (r: Explanation<ExplainMethodName>, upsample: 'bilinear' | 'nearest') => {
    for (const layer of layers) {
      const { activation, signal } = r.taps[layer]!;
      const [, , h, w] = activation.dims as Dims4;
      for (const a of plain) {
        const m = r.layerMaps[layer]![a]!;
        expect(m.raw.dims).toEqual([2, 2, h, w]);
        expect(m.upsampled.dims).toEqual([2, 2, 32, 32]);
        const want = aggregateLoop(a, activation, signal);
        expect(relL2(m.raw.data, want), `${a} at ${layer}`).toBeLessThan(1e-5);
        expect(relL2(m.upsampled.data, upsampleLoop(want, [2, 2, h, w], [32, 32], upsample)), `${a} upsampled at ${layer}`).toBeLessThan(1e-5);
      }
    }
  };

  it('every aggregation at three layers, raw and bilinear-upsampled', async () => {
    const r = await ex.explain(x, { method: 'gradient', target, layers, aggregation: plain, taps: layers });
    expect(r.targets.map((t) => t[1])).toEqual([3, 3]);
    expect(r.targets[0]![0]).not.toBe(-1);
    expect(r.attribution.dims).toEqual([2, 2, 3, 32, 32]); // the extraction's own attribution stays
    checkAll(r, 'bilinear');
    // The maps are not all trivially equal: linear and gradcam-raw have negative values.
    expect(Math.min(...r.layerMaps[layers[1]!]!.linear!.raw.data)).toBeLessThan(0);
  });

  it('nearest upsampling', async () => {
    const r = await ex.explain(x, { method: 'gradient', target, layers, aggregation: plain, taps: layers, upsample: 'nearest' });
    checkAll(r, 'nearest');
  });

  it('any extraction method: the maps follow that method\'s backward signal', async () => {
    for (const method of METHOD_NAMES) {
      // (LRP composites with the zB rule need pixel bounds; other methods ignore them.)
      const params = { box: { low: [-2, -2, -2], high: [2, 2, 2] } };
      const r = await ex.explain(x, { method, target, params, layers: [layers[1]!], aggregation: ['normgrad', 'linear'], taps: [layers[1]!] });
      const { activation, signal } = r.taps[layers[1]!]!;
      for (const a of ['normgrad', 'linear'] as const) {
        expect(relL2(r.layerMaps[layers[1]!]![a]!.raw.data, aggregateLoop(a, activation, signal)), `${method} ${a}`).toBeLessThan(1e-5);
      }
    }
    // The named method with another extraction gives the same map.
    const named = await ex.explain(x, { method: 'normgrad', extraction: 'guided-backprop', target, layer: layers[1]! });
    const direct = await ex.explain(x, { method: 'guided-backprop', target, layer: layers[1]!, aggregation: 'normgrad' });
    expect(relL2(named.layerMaps[layers[1]!]!.normgrad!.raw.data, direct.layerMaps[layers[1]!]!.normgrad!.raw.data)).toBeLessThan(1e-6);
    const gradient = await ex.explain(x, { method: 'normgrad', target, layer: layers[1]! });
    expect(relL2(named.layerMaps[layers[1]!]!.normgrad!.raw.data, gradient.layerMaps[layers[1]!]!.normgrad!.raw.data)).toBeGreaterThan(1e-3);
  });

  for (const mode of ['sum', 'product'] as const) {
    for (const weights of [undefined, [0.5, 0.3, 0.2]]) {
      it(`multi-layer combination: ${mode}, ${weights ? 'given' : 'uniform'} weights`, async () => {
        const r = await ex.explain(x, { method: 'gradcam', target, layers, combine: { mode, weights }, aggregation: 'normgrad' });
        const w = weights ?? [1 / 3, 1 / 3, 1 / 3];
        const want = combineLoop(layers.map((l) => r.layerMaps[l]!.gradcam!.upsampled.data), 4, mode, w);
        expect(r.combined!.dims).toEqual([2, 2, 32, 32]);
        expect(relL2(r.combined!.data, want)).toBeLessThan(1e-5);
        // The attribution of a layer-map method is its (combined) map with a channel axis.
        expect(r.attribution.dims).toEqual([2, 2, 1, 32, 32]);
        expect(relL2(r.attribution.data, r.combined!.data)).toBe(0);
        const min = Math.min(...r.combined!.data);
        const max = Math.max(...r.combined!.data);
        expect(min).toBeGreaterThanOrEqual(-1e-6);
        expect(max).toBeLessThanOrEqual(1 + 1e-6);
      });
    }
  }

  it('a framework method with one layer: attribution = the upsampled map', async () => {
    for (const method of ['gradcam', 'normgrad', 'normgrad-selective'] as const) {
      const r = await ex.explain(x, { method, target, layer: layers[1]!, taps: [layers[1]!] });
      const agg = method === 'gradcam' ? 'gradcam' : method;
      expect(Object.keys(r.layerMaps)).toEqual([layers[1]!]);
      expect(r.combined).toBeUndefined();
      expect(r.attribution.dims).toEqual([2, 2, 1, 32, 32]);
      expect(relL2(r.attribution.data, r.layerMaps[layers[1]!]![agg]!.upsampled.data)).toBe(0);
      const { activation, signal } = r.taps[layers[1]!]!;
      expect(relL2(r.layerMaps[layers[1]!]![agg]!.raw.data, aggregateLoop(agg, activation, signal))).toBeLessThan(1e-5);
      expect(r.maps.sum!.dims).toEqual([2, 2, 32, 32]);
    }
  });

  it('gradcam by default at the last spatial layer', async () => {
    expect(ex.defaultLayer(dims)).toBe('layer3.0.relu2');
    const r = await ex.explain(x, { method: 'gradcam', target });
    expect(Object.keys(r.layerMaps)).toEqual(['layer3.0.relu2']);
  });

  it('guided-gradcam = guided-backprop ⊙ nearest-upsampled Grad-CAM, per image and target', async () => {
    const gg = await ex.explain(x, { method: 'guided-gradcam', target });
    const gbp = await ex.explain(x, { method: 'guided-backprop', target });
    const cam = await ex.explain(x, { method: 'gradcam', target, upsample: 'nearest' });
    expect(gg.targets).toEqual(gbp.targets);
    expect(gg.attribution.dims).toEqual([2, 2, 3, 32, 32]);
    const hw = 32 * 32;
    const want = gbp.attribution.data.map((v, i) => v * cam.attribution.data[Math.floor(i / (3 * hw)) * hw + (i % hw)]!);
    expect(relL2(gg.attribution.data, want)).toBeLessThan(1e-5);
  });

  it('normgrad-conv: in-graph patch norms vs a direct loop (3×3 stride 2 pad 1, 1×1 stride 2)', async () => {
    const g = ex.canonical(dims).graph;
    for (const [conv, geo] of [
      ['layer2.0.bn1', { kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], groups: 1 }],
      ['layer2.0.downsample.1', { kernel: [1, 1], stride: [2, 2], pads: [0, 0, 0, 0], dilation: [1, 1], groups: 1 }],
    ] as [string, ConvGeometry][]) {
      const node = g.nodes.find((n) => n.outputs.includes(conv))!;
      expect(node.op).toBe('Conv');
      const xin = node.inputs[0]!;
      const r = await ex.explain(x, { method: 'normgrad-conv', target, layer: conv, taps: [conv, xin] });
      const want = convNormgradLoop(r.taps[xin]!.activation, r.taps[conv]!.signal, geo);
      const m = r.layerMaps[conv]!['normgrad-conv']!;
      expect(m.raw.dims).toEqual([2, 2, 16, 16]);
      expect(relL2(m.raw.data, want)).toBeLessThan(1e-5);
    }
  });

  it('normgrad-conv by default at the deepest Conv of the main branch', () => {
    expect(defaultConvLayer(ex.canonical(dims).graph)).toBe('layer3.0.bn2');
  });

  it('the backward pass below the layer is pruned from a layer-map graph', () => {
    const count = (bytes: Uint8Array) => decodeModel(bytes, 'compiled').graph.nodes.length;
    const cam = count(ex.compileToOnnx(dims, { method: 'gradcam', target: 'max', layer: 'layer3.0.relu2' }));
    const grad = count(ex.compileToOnnx(dims, { method: 'gradient', target: 'max', taps: ['layer3.0.relu2'] }));
    expect(cam).toBeLessThan(grad);
  });

  it('usage errors', async () => {
    const bad = async (o: Parameters<typeof ex.explain>[1], msg: RegExp) => {
      await expect(ex.explain(x, o)).rejects.toThrow(msg);
    };
    await bad({ method: 'gradcam', target, layers, combine: { mode: 'sum', weights: [0.5, 0.5] } }, /2 weights given for 3 layers/);
    await bad({ method: 'gradcam', target, layers, combine: { mode: 'sum', weights: [0.5, 0.5, 0.5] } }, /sum to 1/);
    await bad({ method: 'gradcam', target, layer: 'flatten' }, /4-D/);
    await bad({ method: 'gradcam', target, layer: 'nope' }, /no .*tensor named 'nope'/);
    await bad({ method: 'normgrad-conv', target, layer: 'layer3.0.relu2' }, /output of a Conv/);
    await bad({ method: 'gradient', target, aggregation: 'bogus' as Aggregation }, /unknown aggregation 'bogus'/);
    await bad({ method: 'gradient', target, layer: 'layer3.0.relu2' }, /without an aggregation/);
    await bad({ method: 'gradcam', target, extraction: 'gradcam' }, /extraction/);
    await bad({ method: 'nonsense' as 'gradient', target }, /unknown method 'nonsense'.*gradcam/);
  });
});

describe('normgrad-conv on a grouped, dilated Conv', async () => {
  const b = new GraphBuilder('grouped', { seed: 5, init: { kind: 'he' } });
  const y = b.input('input', [4, 12, 12])
    .conv({ name: 'c1', filters: 8, kernel: 3, pad: 1 }).relu('r1')
    .conv({ name: 'gconv', filters: 8, kernel: 3, stride: 2, pad: 2, groups: 4 }).relu('r2')
    .globalAveragePool('gap').flatten('flat').gemm({ name: 'fc', units: 5 });
  b.output(y, 'logits');
  b.graph.nodes.find((n) => n.name === 'gconv')!.attrs.dilations = intsAttr([2, 2]);
  const ex = await Explainer.load(encodeModel(b.graph));

  it('patch norms per group, dilation 2, stride 2, pad 2', async () => {
    const x: TensorLike = { data: wave(2 * 4 * 12 * 12, 4), dims: [2, 4, 12, 12] };
    const r = await ex.explain(x, { method: 'normgrad-conv', target: 'top2', taps: ['gconv', 'r1'] });
    expect(Object.keys(r.layerMaps)).toEqual(['gconv']);
    const m = r.layerMaps.gconv!['normgrad-conv']!;
    expect(m.raw.dims).toEqual([2, 2, 6, 6]);
    const want = convNormgradLoop(r.taps.r1!.activation, r.taps.gconv!.signal, { kernel: [3, 3], stride: [2, 2], pads: [2, 2, 2, 2], dilation: [2, 2], groups: 4 });
    expect(relL2(m.raw.data, want)).toBeLessThan(1e-5);
    expect(relL2(m.upsampled.data, upsampleLoop(want, [2, 2, 6, 6], [12, 12], 'bilinear'))).toBeLessThan(1e-5);
  });
});

describe.skipIf(!HAS_SHARED)('default layers of real models', () => {
  it('MobileNetV2: the last 7×7 feature map (Clip after the last 1×1 conv); ResNet-20: the last block output', async () => {
    const mobilenet = await Explainer.load(shared('models', 'mobilenetv2-imagenet.onnx'));
    const g = mobilenet.canonical([1, 3, 224, 224]).graph;
    const layer = defaultLayer(g);
    const info = mobilenet.layers().find((l) => l.name === layer)!;
    expect(info.shape).toEqual([1, 1280, 7, 7]);
    expect(info.op).toBe('Clip');
    expect(g.nodes.find((n) => n.inputs.includes(layer))!.op).toBe('GlobalAveragePool');
    expect(mobilenet.layers().every((l) => l.shape.length === 4)).toBe(true);
    const resnet = await Explainer.load(shared('models', 'resnet20-cifar10.onnx'));
    expect(resnet.defaultLayer()).toBe('layer3.2.out');
  });

  it('a fixed-batch model explains a batch image by image, layer maps included', async () => {
    const ex = await Explainer.load(shared('models', 'resnet20-cifar10.onnx'));
    const per = 3 * 32 * 32;
    const data = wave(2 * per, 2);
    const r = await ex.explain({ data, dims: [2, 3, 32, 32] }, { method: 'gradcam', target: [[1, 2], [3, 4]], layers: ['layer2.2.out', 'layer3.2.out'], combine: { mode: 'product' } });
    expect(r.layerMaps['layer3.2.out']!.gradcam!.raw.dims).toEqual([2, 2, 8, 8]);
    expect(r.combined!.dims).toEqual([2, 2, 32, 32]);
    const second = await ex.explain({ data: data.subarray(per), dims: [1, 3, 32, 32] }, { method: 'gradcam', target: [3, 4], layers: ['layer2.2.out', 'layer3.2.out'], combine: { mode: 'product' } });
    expect(relL2(r.layerMaps['layer2.2.out']!.gradcam!.raw.data.subarray(2 * 16 * 16), second.layerMaps['layer2.2.out']!.gradcam!.raw.data)).toBeLessThan(1e-6);
    expect(relL2(r.combined!.data.subarray(2 * per / 3), second.combined!.data)).toBeLessThan(1e-6);
    expect(relL2(r.attribution.data.subarray(2 * per / 3), second.attribution.data)).toBeLessThan(1e-6);
  });
});
