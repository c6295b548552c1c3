/**
 * `npm run bench`: explanation time vs forward time on VGG-16 (builder weights, 224×224) and
 * MobileNetV2 (../shared), 8 targets in one run vs 8 runs, peak RSS, and PyTorch autograd as a
 * baseline when Debian's python3-torch is installed. Writes bench/results/latest.json.
 *   npm run bench [-- --runs 5 --models vgg16,mobilenetv2]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (flag: string, fallback: string): string => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const runs = arg('--runs', '5');
const models = arg('--models', 'vgg16,mobilenetv2').split(',');

// Targets from the issue: every method ≤ 2.2× forward on VGG-16, ≤ 3× on MobileNetV2; 8 targets ≤ 0.7×.
const TARGET_RATIO: Record<string, number> = { vgg16: 2.2, mobilenetv2: 3, resnet20: 3 };

interface Result {
  model: string;
  skipped?: string;
  forwardMs: number;
  methods: Record<string, { ms: number; ratio: number }>;
  eightTargets: { oneRunMs: number; separateMs: number; ratio: number };
  peakRssMiB: number;
  torch?: { forwardMs: number; gradientMs: number; ratio: number } | { skipped: string };
}

// Debian's own python3 is the one that imports python3-torch (a pyenv python3 may shadow it).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

const results: Result[] = [];
for (const model of models) {
  process.stderr.write(`benchmarking ${model} …\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'model.ts'), model, runs], { encoding: 'utf8', maxBuffer: 1 << 24 });
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
for (const r of results) {
  if (r.skipped) {
    console.log(`\n${r.model}: skipped (${r.skipped})`);
    continue;
  }
  const limit = TARGET_RATIO[r.model] ?? 3;
  console.log(`\n${r.model}: forward ${r.forwardMs.toFixed(1)} ms (median of ${runs}, 2 threads), peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
  console.log(`  ${'method'.padEnd(18)}${'ms'.padStart(9)}  × forward  (target ≤ ${limit}×)`);
  for (const [m, v] of Object.entries(r.methods)) {
    console.log(`  ${m.padEnd(18)}${f(v.ms)}  ${v.ratio.toFixed(2).padStart(6)}×  ${v.ratio <= limit ? 'ok' : 'OVER'}`);
  }
  const e = r.eightTargets;
  console.log(`  8 targets, one run ${e.oneRunMs.toFixed(1)} ms vs 8 runs ${e.separateMs.toFixed(1)} ms: ${e.ratio.toFixed(2)}× (target ≤ 0.7×) ${e.ratio <= 0.7 ? 'ok' : 'OVER'}`);
  const t = r.torch;
  if (t && 'gradientMs' in t) {
    console.log(`  PyTorch (same machine, 2 threads): forward ${t.forwardMs.toFixed(1)} ms, gradient ${t.gradientMs.toFixed(1)} ms (${t.ratio.toFixed(2)}×); Backlight gradient ${r.methods.gradient ? (r.methods.gradient.ms / t.gradientMs).toFixed(2) : '?'}× PyTorch's time`);
  } else if (t) console.log(`  PyTorch baseline skipped: ${t.skipped}`);
}
mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(path.join(here, 'results', 'latest.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
