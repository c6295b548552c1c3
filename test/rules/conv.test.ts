/** Conv backward (src/rules/convInputGradient.ts): which form the input gradient takes. */
import { describe, expect, it } from 'vitest';
import { Explainer } from '../../src/index.js';
import { allTinyModels } from '../reference/tinyModels.js';

/**
 * The zero-inserted signal is s·out long per axis; a geometry whose input needs less than that
 * (the [9, 8] case: 8 columns, stride 3, 3 outputs) keeps ConvTranspose.
 */
describe('strided depthwise convs run backward as zero insertion and a stride-1 Conv', () => {
  for (const model of allTinyModels().filter((m) => /_s[23]x[23]_.*_g[234]$/.test(m.name))) {
    const fallback = model.inputShape[3] === 8 && model.name.includes('s2x3');
    it(`${model.name}: ${fallback ? 'ConvTranspose' : 'zero insertion'}`, async () => {
      const ex = await Explainer.load(model.bytes);
      const onnx = new TextDecoder('latin1').decode(ex.compileToOnnx(model.inputShape, { method: 'gradient', target: 'max', reductions: [] }));
      expect(onnx.includes('Resize')).toBe(!fallback);
      expect(onnx.includes('ConvTranspose')).toBe(fallback);
    });
  }
});
