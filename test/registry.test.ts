/**
 * The method registry: one MethodSpec registered here (and nowhere else) appears in
 * `backlight explain --help` with its parameter flag, in eval's --method parsing and in the web
 * page's method list.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backward, methodGroups, methodNames, parseNumber, registerMethod, unregisterMethod, type ParamSpec } from '../src/core.js';
import { parseMethods } from '../src/cli/eval/options.js';
import { runCli } from './helpers/cli.js';
import { REPO } from './helpers/paths.js';

const TOY_SCALE: ParamSpec<number> = {
  name: 'toyScale', type: 'number', default: 1, flag: '--toy-scale <s>', help: 'scale of the toy method (default: 1)',
  parse: (t) => parseNumber('--toy-scale', t, (v) => v > 0, 'greater than 0'),
};

registerMethod(backward({
  name: 'toy-gradient', label: 'Toy gradient', summary: 'a toy method registered by a test: the gradient everywhere',
  group: 'gradient', signed: true, display: 'magnitude', params: [TOY_SCALE],
  rules: () => () => ({ family: 'gradient' }), seedScale: 'one', timesInput: false,
}));
afterAll(() => unregisterMethod('toy-gradient'));

describe('a registered method', () => {
  it('is listed with its summary and parameter flag in explain --help', async () => {
    const r = await runCli(['explain', '--help']);
    expect(r.code, r.stderr).toBe(0);
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('toy-gradient a toy method registered by a test: the gradient everywhere');
    expect(r.stdout).toContain('--toy-scale <s>');
    expect(r.stdout).toContain('scale of the toy method');
  });

  it("is accepted by eval's --method", () => {
    expect(parseMethods(['gradient,toy-gradient'])).toEqual(['gradient', 'toy-gradient']);
    expect(() => parseMethods(['nope'])).toThrow(/available: .*toy-gradient/);
  });

  it("is in the web page's method list, in its group", () => {
    expect(methodNames()).toContain('toy-gradient');
    const gradient = methodGroups().find(([title]) => title === 'gradient family')!;
    expect(gradient[1]).toEqual(['gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop', 'toy-gradient']);
    // (the page builds its checkboxes from methodGroups())
    expect(readFileSync(join(REPO, 'web', 'src', 'main.ts'), 'utf8')).toMatch(/for \(const \[title, names\] of methodGroups\(\)/);
  });
});
