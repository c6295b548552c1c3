/**
 * The layers of src/ import only downwards (../shared/DESIGN.md: model → IR → graph → session →
 * maps → files/pictures) and no module imports itself through a circle. Each folder lists the
 * folders it may import; a new import across layers must be added here on purpose.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/paths.js';

const SRC = path.join(REPO, 'src');
const ALLOWED: Record<string, string[]> = {
  errors: [],
  ir: ['errors'],
  onnx: ['errors', 'ir'],
  tfjs: ['errors', 'ir', 'onnx'],
  canonicalize: ['errors', 'ir'],
  rules: ['errors', 'ir'],
  compile: ['errors', 'ir', 'rules'],
  runtime: ['errors', 'ir', 'onnx'],
  render: ['errors', 'ir'],
  metrics: ['errors'],
  io: ['errors', 'ir', 'render'],
  builder: ['errors', 'ir', 'onnx'],
  methods: ['errors', 'ir', 'onnx', 'tfjs', 'canonicalize', 'rules', 'compile', 'runtime', 'render', 'io'],
  core: ['errors', 'methods', 'compile', 'rules', 'metrics', 'render', 'io', 'ir'],
  // The entries add their platform's image loading (io/loadImage.ts: sharp; io/loadImageWeb.ts: canvas).
  index: ['core', 'errors', 'methods', 'runtime', 'io'],
  web: ['core', 'errors', 'methods', 'runtime', 'io', 'tfjs'],
  eval: ['core', 'errors', 'io', 'ir', 'methods', 'metrics', 'onnx', 'render', 'builder'],
  cli: ['core', 'index', 'errors', 'eval', 'io', 'ir', 'metrics', 'onnx', 'tfjs', 'render', 'builder'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const layer = (file: string): string => {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length > 1 ? rel[0]! : rel[0]!.replace(/\.ts$/, '');
};

const imports = new Map<string, string[]>();
for (const file of sources(SRC)) {
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/from '(\.[^']+)'/g)].map((m) => path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '.ts'));
  imports.set(file, targets);
}

describe('architecture', () => {
  it('every folder imports only the layers below it', () => {
    const wrong: string[] = [];
    for (const [file, targets] of imports) {
      const from = layer(file);
      for (const t of targets) {
        const to = layer(t);
        if (to !== from && !(ALLOWED[from] ?? []).includes(to)) wrong.push(`${path.relative(REPO, file)} → ${path.relative(REPO, t)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no import circle', () => {
    const state = new Map<string, 1 | 2>();
    const circles: string[] = [];
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const t of imports.get(f) ?? []) {
        if (state.get(t) === 1) circles.push([...stack.slice(stack.indexOf(t)), t].map((p) => path.relative(SRC, p)).join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of imports.keys()) if (!state.has(f)) visit(f);
    expect(circles).toEqual([]);
  });
});
