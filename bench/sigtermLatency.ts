/**
 * Time from SIGTERM to exit while Backlight compiles an explanation of a deep ReLU chain: a child
 * process loads the model, starts `explain` and handles SIGTERM as the CLI does (exit 143); the
 * parent sends SIGTERM at several delays after the load and measures until the child has exited.
 *   npx tsx bench/sigtermLatency.ts [relus = 20000] [delays ms = 0,250,500,1000,2000,4000]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chainModel, WIDTH } from './scalingModels.js';

if (process.argv[2] === '--child') {
  process.once('SIGTERM', () => process.exit(143));
  const { Explainer } = await import('../src/index.js');
  const { encodeModel } = await import('../src/onnx/encode.js');
  const ex = await Explainer.load(encodeModel(chainModel(Number(process.argv[3]))));
  process.stdout.write('loaded\n');
  await ex.explain({ data: new Float32Array(WIDTH).fill(0.5), dims: [1, WIDTH] }, { method: 'gradient', target: 0, reductions: [] });
  process.stdout.write('done\n');
  process.exit(0);
}

const relus = Number(process.argv[2] ?? 20000);
const delays = (process.argv[3] ?? '0,250,500,1000,2000,4000').split(',').map(Number);
const self = fileURLToPath(import.meta.url);
for (const delay of delays) {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', String(relus)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += d), out.includes('loaded') && resolve())));
  await new Promise((r) => setTimeout(r, delay));
  const finishedFirst = out.includes('done');
  const t = performance.now();
  child.kill('SIGTERM');
  const code = await exited;
  console.log(`${relus} ReLUs, SIGTERM ${delay} ms after load: exit ${code} after ${(performance.now() - t).toFixed(0)} ms${finishedFirst ? ' (compile had finished)' : ''}`);
}
