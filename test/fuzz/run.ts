/**
 * `npm run fuzz`: the full fuzz set through the command line, each case a subprocess with a limit
 * of 60 s of CPU time (execute.ts); prints the counts per category and the cases outside their expectation, and writes
 * docs/eval/fuzz.md. Options: --seed N (default 14), --only <id prefix>, --jobs N (default 2),
 * --no-write (print only), --in-process (no subprocesses, no slow cases, nothing written; for a
 * quick look).
 *
 * How cases are judged, and what the suite found: docs/design/hostile-inputs.md.
 *
 * The CLI is compiled once into out/fuzz-dist (tsc) so that a case costs a Node start, not a
 * TypeScript transpile.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { escapeControl } from '../../src/errors.js';
import { allCases, DEFAULT_SEED } from './cases.js';
import { allowed, runCase, type Outcome } from './execute.js';
import { ROOT } from './models.js';
import { CATEGORIES, type Category, type FuzzCase } from './types.js';

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const seed = Number(flag('--seed') ?? DEFAULT_SEED);
const only = flag('--only');
const jobs = Number(flag('--jobs') ?? 2);
const inProcess = argv.includes('--in-process');
const write = !argv.includes('--no-write') && only === undefined && !inProcess;

const dist = join(ROOT, 'out/fuzz-dist');
if (!inProcess) process.stderr.write('fuzz: compiling the CLI into out/fuzz-dist …\n');
if (!inProcess) execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });

const cases = allCases(seed).filter((c) => (only === undefined || c.id.startsWith(only)) && !(inProcess && c.slow));
const outcomes: Outcome[] = new Array(cases.length);
const t0 = performance.now();
let next = 0;
let done = 0;
async function worker(): Promise<void> {
  while (next < cases.length) {
    const i = next++;
    const c = cases[i]!;
    const o = await runCase(c, inProcess ? { kind: 'in-process' } : { kind: 'spawn', command: [process.execPath, join(dist, 'cli/main.js')] });
    outcomes[i] = o;
    done++;
    const flagged = allowed(c, o) ? '' : '  <-- unexpected';
    process.stdout.write(`[${done}/${cases.length}] ${escapeControl(c.id)}: ${o.category} (${o.seconds.toFixed(1)} s)${o.detail ? ` ${o.detail}` : ''}${flagged}\n`);
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
const wall = (performance.now() - t0) / 1000;

const counts = new Map<Category, number>(CATEGORIES.map((k) => [k, 0]));
for (const o of outcomes) counts.set(o.category, counts.get(o.category)! + 1);
const groups = [...new Set(cases.map((c) => c.group))];
const byGroup = (g: FuzzCase['group'], k: Category) => outcomes.filter((o, i) => cases[i]!.group === g && o.category === k).length;
const unexpected = outcomes.map((o, i) => [cases[i]!, o] as const).filter(([c, o]) => !allowed(c, o));
const partial = outcomes.map((o, i) => [cases[i]!, o] as const).filter(([, o]) => o.category === 'partial-output');
const slowest = [...outcomes].sort((a, b) => b.seconds - a.seconds).slice(0, 5);

console.log(`\n${cases.length} cases, seed ${seed}, ${wall.toFixed(0)} s`);
for (const [k, n] of counts) console.log(`  ${k.padEnd(26)} ${n}`);
console.log(`outside their expectation: ${unexpected.length}`);
for (const [c, o] of unexpected) console.log(`  ${escapeControl(c.id)}: ${o.category}${o.detail ? ` (${o.detail})` : ''}${c.knownIssue ? ` [known: ${c.knownIssue}]` : ''} — ${o.stderr.split('\n')[0]}`);

if (write) {
  const md = `# Fuzz suite: hostile inputs

The full run of the fuzz suite (test/fuzz/, issue 14): ${cases.length} cases — hand-made broken ONNX
graphs, seeded byte flips and truncations of assets/models/digits-cnn.onnx (and of the shared
../shared/models/resnet20-cifar10-dynbatch.onnx when present), hostile images and .npy
files, option values and \`eval pointing\` datasets — each run through the command line as a
subprocess with a limit of ${60} s of CPU time (prlimit; the shared 2-core machine's load stretches
wall time several-fold). A case passes when it is a clean refusal (exit 1 for a bad file, 2
for wrong usage, exactly one \`backlight: …\` line on stderr with no raw control characters, nothing
under \`--out\`) or is accepted with finite output files and logits equal to onnxruntime's own forward
pass of the same model file (relative error ≤ 1e-4; image and eval cases, whose input tensor the
harness does not recompute, are checked for finite outputs only). Hand-made cases also state which
of these they must be (e.g. a cycle must be refused with exit 1).

Rerun: \`npm run fuzz\` (\`-- --seed N\`, \`-- --only onnx/\`, \`-- --jobs N\`). The default test run
(test/fuzz.test.ts) runs a seeded sample of the same cases in-process.

Seed ${seed}; ${wall.toFixed(0)} s wall with ${jobs} jobs; slowest case ${escapeControl(slowest[0]?.id ?? '')} ${slowest[0]?.seconds.toFixed(1) ?? ''} s.

| category | ${groups.join(' | ')} | total |
|---|${groups.map(() => '---:').join('|')}|---:|
${CATEGORIES.map((k) => `| ${k} | ${groups.map((g) => byGroup(g, k)).join(' | ')} | ${counts.get(k)} |`).join('\n')}
| **cases** | ${groups.map((g) => cases.filter((c) => c.group === g).length).join(' | ')} | ${cases.length} |

${partial.length === 0 ? '' : `Partial outputs (${partial.length}), all from refused \`eval\` runs, which leave \`run.json\` / \`results.jsonl\` under \`--out\`: expected to be fixed by the output-discipline work (issue 14, item 4), which owns src/cli/eval/run.ts:

${partial.map(([c, o]) => `- \`${escapeControl(c.id)}\`: ${o.detail ?? ''}`).join('\n')}
`}
${unexpected.length === 0 ? (partial.length === 0 ? 'Every case ended as it must.' : 'Every other case ended as it must.') : `Cases outside their expectation (${unexpected.length}):\n\n${unexpected.map(([c, o]) => `- \`${escapeControl(c.id)}\`: ${o.category}${o.detail ? ` (${o.detail})` : ''}${c.knownIssue ? ` — ${c.knownIssue}` : ''}`).join('\n')}`}
`;
  writeFileSync(join(ROOT, 'docs/eval/fuzz.md'), md);
  console.log('wrote docs/eval/fuzz.md');
}
process.exitCode = unexpected.some(([c]) => !c.knownIssue) ? 1 : 0;
