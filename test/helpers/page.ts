/** What the explorer page's Chromium tests share: the browser, its flags, and the page-vs-Node check. */
import { existsSync } from 'node:fs';
import { expect } from 'vitest';
import { Explainer, type ExplainMethodName, type MethodParams } from '../../src/index.js';

export const CHROMIUM = process.env.BACKLIGHT_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const QUIET = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', ...QUIET];

/** One attribution the page computed, as the tests read it from its hook (typed arrays as plain arrays). */
export interface PageResult {
  method: ExplainMethodName;
  targets: number[];
  params: MethodParams;
  dims: number[];
  data: number[];
}

/** The page's attributions equal Node's (onnxruntime-node) for the same model, input, targets and parameters, to 1e-4 of the map's largest value. */
export async function expectNodeResults(s: { input: { data: number[]; dims: number[] } | null; targets: number[]; results: PageResult[] }, model: string | Uint8Array): Promise<void> {
  const ex = await Explainer.load(model);
  const x = { data: Float32Array.from(s.input!.data), dims: s.input!.dims };
  expect(s.results.length).toBeGreaterThan(0);
  for (const r of s.results) {
    const ref = await ex.explain(x, { method: r.method, target: r.targets, params: r.params });
    expect(ref.targets[0]).toEqual(s.targets);
    expect(r.dims).toEqual(ref.attribution.dims);
    let worst = 0;
    let scale = 0;
    ref.attribution.data.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - r.data[i]!));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(scale).toBeGreaterThan(0);
    expect(worst / scale, `${r.method}: max |browser − node| / max |node|`).toBeLessThanOrEqual(1e-4);
  }
}
