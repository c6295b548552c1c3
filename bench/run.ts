/**
 * `npm run bench`: explanation time vs forward time on VGG-16 (builder weights, 224×224) and
 * MobileNetV2 (../shared) for the gradient family and LRP rows (rules and composites, CLRP2),
 * CLRP vs LRP (the dual concept costs no second forward pass), 8 targets in one run vs 8 runs,
 * peak RSS, and PyTorch autograd as a baseline when Debian's python3-torch is installed. Writes
 * bench/results/latest.json.
 *   npm run bench [-- --runs 5 --models vgg16,mobilenetv2 --methods gradient,lrp-epsilon,clrp2]
 * (`--methods` keeps rows by label or method name; see bench/model.ts.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const runs = arg('--runs', '5');
const models = arg('--models', 'vgg16,mobilenetv2').split(',');
const methodFilter = arg('--methods', '');

// Targets from the issues: the gradient family ≤ 2.2× forward on VGG-16, ≤ 3× on MobileNetV2;
// on VGG-16 LRP-ε ≤ 2.5×, ε-+-flat ≤ 3×, ε-γ-box ≤ 5×; 8 targets ≤ 0.7×. Rows without one: none.
const GRADIENT_FAMILY = ['gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop'];
const TARGET_RATIO: Record<string, Record<string, number>> = {
  vgg16: { ...Object.fromEntries(GRADIENT_FAMILY.map((m) => [m, 2.2])), 'lrp-epsilon': 2.5, 'lrp epsilon-plus-flat': 3, 'lrp epsilon-gamma-box': 5 },
  mobilenetv2: Object.fromEntries(GRADIENT_FAMILY.map((m) => [m, 3])),
  resnet20: Object.fromEntries(GRADIENT_FAMILY.map((m) => [m, 3])),
};

interface Result {
  model: string;
  skipped?: string;
  forwardMs: number;
  methods: Record<string, { method: string; ms: number; ratio: number; compileMs: number } | { method: string; error: string }>;
  clrp?: { lrpMs: number; lrpTwoTargetsMs: number; clrp2Ms: number };
  loadAvg: number[];
  eightTargets: { oneRunMs: number; separateMs: number; ratio: number };
  peakRssMiB: number;
  torch?: { forwardMs: number; gradientMs: number; ratio: number } | { skipped: string };
}

// Debian's own python3 is the one that imports python3-torch (a pyenv python3 may shadow it).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const loadBefore = os.loadavg();
const results: Result[] = [];
for (const model of models) {
  process.stderr.write(`benchmarking ${model} …\n`);
  const args = ['--import', 'tsx', path.join(here, 'model.ts'), model, runs, ...(methodFilter ? ['--methods', methodFilter] : [])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    process.stderr.write(r.stderr);
    process.exit(1);
  }
  const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as Result;
  if (!result.skipped) {
    const py = spawnSync(PYTHON, [path.join(here, 'torch_baseline.py'), model, runs], { encoding: 'utf8' });
    const line = py.status === 0 ? py.stdout.trim().split('\n').pop() : undefined;
    result.torch = line ? JSON.parse(line) : { skipped: (py.stderr || 'python3 not found').trim().split('\n').pop()! };
  }
  results.push(result);
}

const f = (x: number): string => x.toFixed(1).padStart(9);
const load = (l: readonly number[]): string => l.map((v) => v.toFixed(2)).join(', ');
console.log(`machine: ${os.cpus().length} cores, load average (1, 5, 15 min) ${load(loadBefore)} before the run, ${load(os.loadavg())} after`);
for (const r of results) {
  if (r.skipped) {
    console.log(`\n${r.model}: skipped (${r.skipped})`);
    continue;
  }
  const limits = TARGET_RATIO[r.model] ?? {};
  console.log(`\n${r.model}: forward ${r.forwardMs.toFixed(1)} ms (median, 2 threads; × forward: median of forward/explain pairs run in alternation, ≥ ${runs} per row), peak RSS ${r.peakRssMiB.toFixed(0)} MiB, load average at the end ${load(r.loadAvg)}`);
  console.log(`  ${'method'.padEnd(24)}${'ms'.padStart(9)}  ${'× forward'.padStart(9)}  ${'target'.padStart(7)}        ${'compile ms'.padStart(10)}`);
  for (const [m, v] of Object.entries(r.methods)) {
    const limit = limits[m];
    if ('error' in v) {
      console.log(`  ${m.padEnd(24)}${'failed'.padStart(9)}  ${''.padStart(9)}  ${(limit === undefined ? '—' : `≤ ${limit}×`).padStart(7)}  ${limit === undefined ? '    ' : 'FAIL'}  ${v.error}`);
      continue;
    }
    const target = limit === undefined ? '—' : `≤ ${limit}×`;
    const status = limit === undefined ? '' : v.ratio <= limit ? 'ok' : 'OVER';
    console.log(`  ${m.padEnd(24)}${f(v.ms)}  ${`${v.ratio.toFixed(2)}×`.padStart(9)}  ${target.padStart(7)}  ${status.padEnd(4)}  ${v.compileMs.toFixed(0).padStart(10)}`);
  }
  const c = r.clrp;
  if (c && Number.isFinite(c.clrp2Ms)) {
    console.log(
      `  CLRP: clrp2 ${c.clrp2Ms.toFixed(1)} ms vs lrp ${c.lrpMs.toFixed(1)} ms (${(c.clrp2Ms / c.lrpMs).toFixed(2)}×, +${(c.clrp2Ms - c.lrpMs).toFixed(1)} ms) and lrp with 2 targets ${c.lrpTwoTargetsMs.toFixed(1)} ms;` +
        ` a second forward pass alone would add ${r.forwardMs.toFixed(1)} ms.\n` +
        '        The dual concept runs in the same backward batch as the target (one forward pass, a backward batch of 2 rows),' +
        ` so clrp2 costs about what lrp with 2 targets costs (${(c.clrp2Ms / c.lrpTwoTargetsMs).toFixed(2)}×).`,
    );
  }
  const e = r.eightTargets;
  console.log(`  8 targets, one run ${e.oneRunMs.toFixed(1)} ms vs 8 runs ${e.separateMs.toFixed(1)} ms: ${e.ratio.toFixed(2)}× (target ≤ 0.7×) ${e.ratio <= 0.7 ? 'ok' : 'OVER'}`);
  const t = r.torch;
  if (t && 'gradientMs' in t) {
    console.log(`  PyTorch (same machine, 2 threads): forward ${t.forwardMs.toFixed(1)} ms, gradient ${t.gradientMs.toFixed(1)} ms (${t.ratio.toFixed(2)}×); Backlight gradient ${r.methods.gradient && 'ms' in r.methods.gradient ? (r.methods.gradient.ms / t.gradientMs).toFixed(2) : '?'}× PyTorch's time`);
  } else if (t) console.log(`  PyTorch baseline skipped: ${t.skipped}`);
}
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
