/**
 * One codebase for Node and the browser: everything the browser entry (src/web.ts) and the
 * explorer page (web/src/) import, followed file by file, uses no Node module, no Node-only
 * package and no Node global. (The page's end-to-end test is test/web.e2e.test.ts.)
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/paths.js';

/** Packages the browser build may use. */
const BROWSER_PACKAGES = ['onnxruntime-web', 'onnxruntime-common', 'onnx-proto', 'd3-scale-chromatic', 'fast-png'];

/** The module specifiers of static imports and re-exports (`import x from '…'`, `import '…'`) and dynamic imports. */
const importsOf = (text: string): string[] =>
  [...text.matchAll(/^\s*(?:import|export)\s+(?:[\w*\s{},$]*?\s*from\s+)?'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);

/** Every source file reachable from `entries` by relative imports, with the bare imports it makes. */
function importGraph(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    const bare: string[] = [];
    for (const s of importsOf(text)) {
      if (s.startsWith('.')) {
        const target = path.resolve(path.dirname(file), s.split('?')[0]!.replace(/\.js$/, '.ts'));
        if (target.endsWith('.ts')) todo.push(target);
      } else bare.push(s);
    }
    seen.set(file, bare);
  }
  return seen;
}

describe('browser build', () => {
  const web = path.join(REPO, 'web', 'src');
  const entries = [path.join(REPO, 'src', 'web.ts'), ...readdirSync(web).filter((f) => f.endsWith('.ts')).map((f) => path.join(web, f))];
  const graph = importGraph(entries);

  it('reaches the core through the browser entry and the page', () => {
    const rel = [...graph.keys()].map((f) => path.relative(REPO, f));
    for (const f of ['src/core.ts', 'src/methods/explainer.ts', 'src/compile/compile.ts', 'src/io/preprocess.ts', 'src/render/heatmap.ts', 'src/methods/display.ts']) expect(rel).toContain(f);
    expect(graph.size).toBeGreaterThan(40);
    for (const f of graph.keys()) expect(existsSync(f), f).toBe(true);
  });

  it('imports no Node module, Node-only package or Node global', () => {
    for (const [file, bare] of graph) {
      const rel = path.relative(REPO, file);
      for (const s of bare) expect(BROWSER_PACKAGES.includes(s), `${rel} imports '${s}'`).toBe(true);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, rel).not.toMatch(/\b(process|Buffer|require|__dirname)\b[.(]/);
    }
  });

  it('the Node entry binds onnxruntime-node and nothing else differs', () => {
    const node = readFileSync(path.join(REPO, 'src', 'index.ts'), 'utf8');
    const browser = readFileSync(path.join(REPO, 'src', 'web.ts'), 'utf8');
    expect(importsOf(node).filter((s) => !s.startsWith('.'))).toEqual(['node:fs/promises', 'onnxruntime-node']);
    expect(importsOf(browser).filter((s) => !s.startsWith('.'))).toEqual(['onnxruntime-web']);
    // Both re-export the same public API.
    expect(node).toContain("export * from './core.js';");
    expect(browser).toContain("export * from './core.js';");
  });
});
