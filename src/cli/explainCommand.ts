/**
 * `backlight explain`: attributions for NumPy inputs, written as .npy files.
 *
 * ```sh
 * npx backlight explain --model model.onnx --input-npy x.npy y.npy \
 *     --method gradient,guided-backprop --target max,3 --out results
 * ```
 *
 * Each .npy file holds one batch for the model's input: shape [N, …] matching the model (a model
 * with a dynamic batch takes any N; a model with a fixed batch of 1 is run image by image), or the
 * shape of one image without the batch axis (taken as N = 1). Any dtype NumPy writes as float32,
 * float64, int64, int32 or uint8 is accepted and converted to float32.
 *
 * For every input `x.npy` and every method, one run explains all targets (`max` and `topK` are
 * resolved from the logits of that same run) and writes, in `results/x/`:
 *
 * - `<method>__<target>.npy`: the attribution for one target, float32, with the shape of `x.npy`
 *   (for N > 1, the [N, …] attributions of every image for that target). `<target>` is the class
 *   index actually used, e.g. `gradient__8.npy` for `--target max` when class 8 is predicted.
 *   When N > 1 and the class differs between images (`max` or `topK` on images with different
 *   predictions), the file is named after the target spec instead: `gradient__max.npy`, and
 *   `gradient__top3-2.npy` for the second-best class of `top3`. targets.json tells which class
 *   every image used.
 * - `logits.npy`: the logits, float32 [N, classes] (before any softmax of the model).
 * - `targets.json`: the target specs, the classes used per image and target, and the files.
 *
 * `--json` prints one JSON object describing what was written (files, targets, timings) to stdout;
 * otherwise a short summary is printed unless `--quiet`. `--dump-graph g.onnx` also writes the
 * compiled explanation graph of the first method (for the first input's shape), to inspect in
 * Netron. Everything that can be checked is checked before any computation (model, inputs,
 * methods, targets, output folders), and every file is written atomically, so a failed run leaves
 * no partial file behind.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { BacklightError } from '../errors.js';
import { Explainer } from '../index.js';
import { encodeNpy, decodeNpy } from '../io/npy.js';
import type { Dim } from '../ir/graph.js';
import { sizeOf } from '../ir/tensor.js';
import type { Explainer as CoreExplainer, Explanation, TargetSpec, TensorLike } from '../methods/explainer.js';
import { METHODS, METHOD_NAMES, methodByName, type MethodName } from '../methods/methods.js';
import type { CliIO } from './errors.js';
import { checkWritableFolder, fsReason, writeFileAtomic } from '../io/files.js';
import { parseTargetList, positionLabel, targetPositions, validateTargets, type TargetPosition } from './targets.js';

/** Options as commander parses them. */
export interface ExplainCliOptions {
  model: string;
  inputNpy?: string[];
  method?: string[];
  target?: string[];
  out: string;
  json?: boolean;
  quiet?: boolean;
  threads?: string;
  dumpGraph?: string;
  debug?: boolean;
}

/** One input batch, from whatever source (a .npy file now; images later). */
export interface InputBatch {
  /** The file it came from, as given. */
  source: string;
  /** Name of its output folder under --out. */
  stem: string;
  /** The batch fed to the model, [N, …]. */
  tensor: TensorLike;
  /** Shape of one attribution file: the input's own shape ([N, …], or […] without a batch axis). */
  fileDims: number[];
}

/** What one command line asks for, validated. */
export interface ExplainPlan {
  model: string;
  inputs: string[];
  methods: MethodName[];
  targets: TargetSpec[];
  out: string;
  threads?: number;
  dumpGraph?: string;
  format: 'json' | 'text' | 'quiet';
}

/** One target slot of an input's results and the name its files get. */
export interface TargetSlot extends TargetPosition {
  /** The class used for each image of the batch. */
  classes: number[];
  /** `<target>` in `<method>__<target>.npy`: the class when all images agree, else the spec label. */
  name: string;
}

export interface InputReport {
  input: string;
  dir: string;
  shape: number[];
  targets: TargetSlot[];
  /** targets[n][k] of the library: the class for image n and slot k. */
  perImage: number[][];
  files: string[];
  timings: Array<{ method: MethodName; compileMs: number; runMs: number }>;
}

export interface ExplainReport {
  command: 'explain';
  model: string;
  out: string;
  methods: MethodName[];
  targets: string[];
  inputs: InputReport[];
  dumpGraph: string | null;
  timings: { loadMs: number; totalMs: number };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Wraps `text` to `width` columns, indenting continuation lines by `indent` spaces. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** JSON with two-space indentation, but arrays of numbers on one line. */
function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*(-?[0-9.e+-]+(?:,\s*-?[0-9.e+-]+)*)\s*\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
}

const HELP_AFTER = `
Inputs:
  Each .npy file is one batch for the model input: [N, ...] matching the model
  (any N for a dynamic batch), or one image without the batch axis (N = 1).
  float32, float64, int64, int32 and uint8 arrays are read as float32.

Outputs, in <dir>/<stem of input>/:
  <method>__<target>.npy  attribution for one target, float32, same shape as the
                          input (for N > 1: every image's attribution for it)
  logits.npy              logits, float32 [N, classes]
  targets.json            classes used per image and target, files written
  <target> is the class index used (gradient__8.npy for --target max when class
  8 is predicted). When N > 1 and images use different classes, the file is
  named by the target spec: gradient__max.npy, gradient__top3-2.npy (second of
  top3); targets.json has the class of every image.

Methods:
${METHOD_NAMES.map((m) => `  ${m.padEnd(18)}${wrap(METHODS[m].summary, 80, 20)}`).join('\n')}

Exit codes: 0 ok, 1 bad model, input or output file, 2 wrong usage.

Example:
  backlight explain --model model.onnx --input-npy x.npy --method gradient,guided-backprop --target max,3 --out results
`;

export function registerExplain(program: Command, io: CliIO): void {
  program
    .command('explain')
    .summary('write attributions of NumPy inputs as .npy files')
    .description('Explain a classifier\'s predictions: one attribution per input, method and target, written as .npy files.')
    .requiredOption('-m, --model <file.onnx>', 'the ONNX classifier (output: logits or probabilities [N, classes])')
    .option('-i, --input-npy <files...>', 'input batches as .npy files, [N, ...] or one image without the batch axis')
    .option('--method <names>', `comma-separated methods (default: gradient): ${METHOD_NAMES.join(', ')}`, collect)
    .option('-t, --target <specs>', "comma-separated targets (default: max): a class index, 'max' (predicted class) or 'topK' (the K best)", collect)
    .requiredOption('-o, --out <dir>', 'output folder (created if needed)')
    .option('--json', 'print a JSON description of what was written (files, targets, timings) to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--threads <n>', 'threads per onnxruntime session (default: onnxruntime\'s choice)')
    .option('--dump-graph <file.onnx>', 'also write the compiled explanation graph of the first method (view it in Netron)')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: ExplainCliOptions) => {
      const plan = planExplain(opts);
      printReport(await explainCommand(plan), plan.format, io);
    });
}

/** Checks the options that need no file: methods, targets, threads, inputs. */
export function planExplain(opts: ExplainCliOptions): ExplainPlan {
  const methods: MethodName[] = [];
  for (const value of opts.method?.length ? opts.method : ['gradient']) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      if (!name) throw new BacklightError(`--method '${value}' has an empty entry (available: ${METHOD_NAMES.join(', ')})`, 'usage');
      const m = methodByName(name).name;
      if (!methods.includes(m)) methods.push(m);
    }
  }
  const targets = parseTargetList(opts.target?.length ? opts.target : ['max']);
  let threads: number | undefined;
  if (opts.threads !== undefined) {
    threads = Number(opts.threads);
    if (!/^[0-9]+$/.test(opts.threads.trim()) || !Number.isSafeInteger(threads) || threads < 1) {
      throw new BacklightError(`--threads '${opts.threads}' is not a positive integer`, 'usage');
    }
  }
  const inputs = opts.inputNpy ?? [];
  if (inputs.length === 0) throw new BacklightError('no input given: add --input-npy FILE.npy', 'usage');
  return {
    model: opts.model,
    inputs,
    methods,
    targets,
    out: opts.out,
    threads,
    dumpGraph: opts.dumpGraph,
    format: opts.json ? 'json' : opts.quiet ? 'quiet' : 'text',
  };
}

/** The output folder name for an input file: its name without the extension. */
export function stemOf(file: string): string {
  const name = basename(file);
  const ext = extname(name);
  return ext && ext !== name ? name.slice(0, -ext.length) : name;
}

function shapeText(dims: readonly Dim[]): string {
  return `[${dims.join(', ')}]`;
}

/**
 * Fits an array to the model input: checks its shape ([N, …], or one image without the batch
 * axis) and returns the batch to feed; throws a message with the expected and the actual shape.
 */
export function fitInput(array: TensorLike, model: { inputName: string; inputShape: Dim[] }, source: string): InputBatch {
  const expected = model.inputShape;
  const got = array.dims;
  const rest = expected.slice(1);
  const batch = expected[0];
  const anyBatch = typeof batch !== 'number' || batch === 1;
  const wanted = `${shapeText([anyBatch ? 'N' : batch!, ...rest])}${anyBatch ? ` (or ${shapeText(rest)} for one image)` : ''}`;
  const fail = (why = ''): never => {
    throw new BacklightError(`${source}: expected an array of shape ${wanted} for model input '${model.inputName}', got ${shapeText(got)}${why}`);
  };
  let dims: number[];
  if (got.length === expected.length) dims = [...got];
  else if (got.length === expected.length - 1 && anyBatch) dims = [1, ...got];
  else return fail();
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) fail(' (empty arrays cannot be explained)');
  for (let i = 1; i < dims.length; i++) {
    const e = expected[i]!;
    if (typeof e === 'number' && e !== dims[i]) fail();
  }
  if (!anyBatch && dims[0] !== batch) fail();
  return { source, stem: stemOf(source), tensor: { data: array.data, dims }, fileDims: [...got] };
}

async function readNpyInput(file: string, explainer: CoreExplainer): Promise<InputBatch> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new BacklightError(`cannot read input file '${file}': ${fsReason(e)}`);
  }
  return fitInput(decodeNpy(bytes, file), explainer, file);
}

/** Dims the library canonicalizes with for this batch (a fixed batch of 1 runs image by image). */
function canonicalDims(explainer: CoreExplainer, dims: readonly number[]): number[] {
  return explainer.inputShape[0] === 1 ? [1, ...dims.slice(1)] : [...dims];
}

function classCount(explainer: CoreExplainer, dims: readonly number[], source: string): number {
  const out = explainer.canonical(canonicalDims(explainer, dims)).graph.outputs[0]!;
  if (out.shape.length !== 2 || typeof out.shape[1] !== 'number') {
    throw new BacklightError(`${source}: the model output '${out.name}' has shape ${shapeText(out.shape)}; Backlight explains classifiers whose output is [batch, classes]`);
  }
  return out.shape[1];
}

/** The [N, …] attribution of slot k, taken out of the library's [N, K, …]. */
export function sliceSlot(attribution: TensorLike, k: number): Float32Array {
  const [n, kk] = attribution.dims as [number, number];
  const per = sizeOf(attribution.dims.slice(2));
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(attribution.data.subarray((i * kk + k) * per, (i * kk + k + 1) * per), i * per);
  return out;
}

/** Names the target slots: by class where every image used the same one, else by spec. */
export function nameSlots(positions: readonly TargetPosition[], perImage: readonly number[][]): TargetSlot[] {
  return positions.map((p, k) => {
    const classes = perImage.map((t) => t[k]!);
    const same = classes.every((c) => c === classes[0]);
    return { ...p, classes, name: same ? String(classes[0]) : positionLabel(p) };
  });
}

function sameTargets(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((row, i) => row.length === b[i]!.length && row.every((c, j) => c === b[i]![j]));
}

/** Runs `explain` for a validated plan and writes its files; returns what was written. */
export async function explainCommand(plan: ExplainPlan): Promise<ExplainReport> {
  const t0 = performance.now();

  // Output folders: distinct per input, creatable and writable, before any work.
  const seen = new Map<string, string>();
  for (const input of plan.inputs) {
    const dir = join(plan.out, stemOf(input));
    const other = seen.get(dir);
    if (other !== undefined) throw new BacklightError(`inputs '${other}' and '${input}' would both write to '${dir}'; rename one of them`, 'usage');
    seen.set(dir, input);
  }
  await checkWritableFolder(plan.out);
  for (const dir of seen.keys()) await checkWritableFolder(dir);
  if (plan.dumpGraph) await checkWritableFolder(dirname(plan.dumpGraph), 'folder of --dump-graph');

  const explainer = await Explainer.load(plan.model, { threads: plan.threads });
  const batches: InputBatch[] = [];
  for (const file of plan.inputs) batches.push(await readNpyInput(file, explainer));
  for (const b of batches) validateTargets(plan.targets, classCount(explainer, b.tensor.dims, plan.model));
  const loadMs = performance.now() - t0;

  let dumpGraph: string | null = null;
  if (plan.dumpGraph) {
    const first = batches[0]!;
    const bytes = explainer.compileToOnnx(canonicalDims(explainer, first.tensor.dims), { method: plan.methods[0]!, target: plan.targets, reductions: [] });
    await writeFileAtomic(plan.dumpGraph, bytes);
    dumpGraph = plan.dumpGraph;
  }

  const positions = targetPositions(plan.targets);
  const reports: InputReport[] = [];
  for (const batch of batches) {
    // Compute everything for this input, then write: a failing run writes no file of it.
    const results: Explanation[] = [];
    for (const method of plan.methods) {
      results.push(await explainer.explain(batch.tensor, { method, target: plan.targets, reductions: [] }));
    }
    const first = results[0]!;
    for (const r of results) {
      if (!sameTargets(r.targets, first.targets)) throw new Error(`methods ${first.method} and ${r.method} resolved different targets`);
    }
    const slots = nameSlots(positions, first.targets);
    const dir = join(plan.out, batch.stem);
    const files: string[] = [];
    const byMethod: Record<string, string[]> = {};
    for (const r of results) {
      const written = new Set<string>();
      byMethod[r.method] = [];
      for (const [k, slot] of slots.entries()) {
        const name = `${r.method}__${slot.name}.npy`;
        if (written.has(name)) continue; // the same class twice (e.g. max and its index): same data
        written.add(name);
        const file = join(dir, name);
        await writeFileAtomic(file, encodeNpy(sliceSlot(r.attribution, k), batch.fileDims));
        files.push(file);
        byMethod[r.method]!.push(name);
      }
    }
    const logitsFile = join(dir, 'logits.npy');
    await writeFileAtomic(logitsFile, encodeNpy(first.logits.data, first.logits.dims));
    files.push(logitsFile);
    const targetsFile = join(dir, 'targets.json');
    const targetsDoc = {
      input: batch.source,
      shape: batch.fileDims,
      batch: batch.tensor.dims[0],
      classes: first.logits.dims[1],
      targets: plan.targets.map(String),
      slots: slots.map((s) => ({ spec: s.spec, ...(s.rank !== undefined ? { rank: s.rank } : {}), name: s.name, classes: s.classes })),
      perImage: first.targets,
      files: byMethod,
    };
    await writeFileAtomic(targetsFile, `${prettyJson(targetsDoc)}\n`);
    files.push(targetsFile);
    reports.push({
      input: batch.source,
      dir,
      shape: batch.fileDims,
      targets: slots,
      perImage: first.targets,
      files,
      timings: results.map((r) => ({ method: r.method, compileMs: round(r.timings.compileMs), runMs: round(r.timings.runMs) })),
    });
  }
  return {
    command: 'explain',
    model: plan.model,
    out: plan.out,
    methods: plan.methods,
    targets: plan.targets.map(String),
    inputs: reports,
    dumpGraph,
    timings: { loadMs: round(loadMs), totalMs: round(performance.now() - t0) },
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function printReport(report: ExplainReport, format: ExplainPlan['format'], io: CliIO): void {
  if (format === 'quiet') return;
  if (format === 'json') {
    io.stdout(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines: string[] = [];
  let count = 0;
  for (const r of report.inputs) {
    const targets = r.targets.map((s) => (s.name === s.spec ? s.spec : `${positionLabel(s)}=${s.name}`)).join(', ');
    lines.push(`${r.input} ${shapeText(r.shape)}: targets ${targets}`);
    for (const t of r.timings) lines.push(`  ${t.method.padEnd(18)}compile ${Math.round(t.compileMs)} ms, run ${Math.round(t.runMs)} ms`);
    lines.push(`  wrote ${r.files.length} files to ${r.dir}${r.dir.endsWith('/') ? '' : '/'}: ${r.files.map((f) => relative(r.dir, f)).join(', ')}`);
    count += r.files.length;
  }
  if (report.dumpGraph) {
    lines.push(`wrote the compiled graph of ${report.methods[0]} to ${report.dumpGraph}`);
    count++;
  }
  lines.push(`done: ${count} files in ${(report.timings.totalMs / 1000).toFixed(2)} s`);
  io.stdout(`${lines.join('\n')}\n`);
}
