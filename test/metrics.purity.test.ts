import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as metrics from '../src/metrics/index.js';

const dir = fileURLToPath(new URL('../src/metrics/', import.meta.url));

describe('metrics library', () => {
  it('is pure: no Node or onnxruntime imports, relative imports only, ending in .js', () => {
    let imports = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(dir + file, 'utf8');
      for (const m of text.matchAll(/(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)) {
        expect(m[1], `${file}: ${m[1]}`).toMatch(/^\.\/\w+\.js$/);
        imports++;
      }
      expect(text, file).not.toMatch(/\brequire\(|import\(/);
    }
    expect(imports).toBeGreaterThan(20);
  });

  it('re-exports every module from the index', () => {
    for (const name of ['boxesMask', 'evaluatePointingGame', 'energyPointingSweep', 'perturbationBatches', 'auc', 'spearman', 'normalizedL2Distance', 'ssim', 'pearsonMaps', 'mulberry32', 'summarize', 'descendingOrder']) {
      expect(typeof (metrics as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
