/**
 * The compiler's phases composed: layer maps and a second backward pass in one graph, and the
 * forward-only runtime path.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/builder/index.js';
import { backwardPass, inputAttribution } from '../../src/compile/backward.js';
import { beginCompilation, finishCompilation } from '../../src/compile/compilation.js';
import { compile } from '../../src/compile/compile.js';
import { emitAttribution, perImage } from '../../src/compile/outputs.js';
import { emitSeeds } from '../../src/compile/seeds.js';
import { Explainer } from '../../src/index.js';
import { extractionOptions } from '../../src/methods/framework.js';
import { methodByName } from '../../src/methods/methods.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { onnx } from '../../src/onnx/proto.js';

const bytes = buildModel({ model: 'resnetSmall', depth: 8, seed: 2 });

describe('compile phases', () => {
  it('the phases run by hand give the same graph as compile()', async () => {
    const ex = await Explainer.load(bytes);
    const dims = [2, ...ex.inputShape.slice(1)] as number[];
    const { graph } = ex.canonical(dims);
    const o = { ...extractionOptions(methodByName('gradient-x-input')), seeds: { top: 2, given: 1 } };
    const c = beginCompilation(graph, o.seeds);
    const pass = backwardPass(c, emitSeeds(c, o.seeds), o, []);
    emitAttribution(c, c.emit, perImage(c, c.emit, inputAttribution(c, pass), c.inputShape), [c.batch, c.k, ...c.inputShape.slice(1)], ['sum']);
    const byHand = encodeModel(finishCompilation(c).graph);
    expect(Buffer.from(byHand).equals(Buffer.from(encodeModel(compile(graph, { ...o, reductions: ['sum'] }).graph)))).toBe(true);
  });

  it('Guided Grad-CAM is one graph: one TopK, and its guided pass equals Guided Backprop', async () => {
    const ex = await Explainer.load(bytes);
    const dims = [2, ...ex.inputShape.slice(1)] as number[];
    const x = { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)), dims };
    const graph = onnx.ModelProto.decode(ex.compileToOnnx(dims, { method: 'guided-gradcam', target: 'top2' })).graph!;
    expect(graph.node!.filter((n) => n.opType === 'TopK')).toHaveLength(1);
    const ggc = await ex.explain(x, { method: 'guided-gradcam', target: 'top2', reductions: [] });
    const gb = await ex.explain(x, { method: 'guided-backprop', target: 'top2', reductions: [] });
    const cam = await ex.explain(x, { method: 'gradcam', target: 'top2', upsample: 'nearest', reductions: [] });
    const [n, k, ch, h, w] = ggc.attribution.dims as [number, number, number, number, number];
    for (let i = 0; i < n * k; i++) {
      for (let c = 0; c < ch; c++) {
        for (let p = 0; p < h * w; p++) {
          const j = (i * ch + c) * h * w + p;
          expect(ggc.attribution.data[j]).toBe(Math.fround(gb.attribution.data[j]! * cam.attribution.data[i * h * w + p]!));
        }
      }
    }
  });
});

describe('Runtime.forward', () => {
  it('predict returns the logits of an explain call without compiling a backward pass', async () => {
    const ex = await Explainer.load(bytes, { threads: 1 });
    const dims = [3, ...ex.inputShape.slice(1)] as number[];
    const x = { data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i * 0.11)), dims };
    const logits = await ex.predict(x);
    const r = await ex.explain(x, { method: 'gradient', target: 'max', reductions: [] });
    expect(logits.dims).toEqual(r.logits.dims);
    expect(Array.from(logits.data)).toEqual(Array.from(r.logits.data));
    await ex.release();
  });
});
