/**
 * `backlight explain`, running a plan: output folders, model, preprocessing, inputs, targets and
 * labels checked before anything is computed; then every method of every input, its files
 * (outputs.ts) and summary.json. A method the model refuses does not sink the run: it is left out
 * of every input's files and listed in summary.json.
 */
import { dirname, join } from 'node:path';
import { BacklightError, Explainer, paramsFor, resolveBox, targetPositions, validateTargets, type CoreExplainer, type ExplainMethodName, type Explanation, type MethodParams } from '../../index.js';
import { checkWritableFolder, writeFileAtomic } from '../../io/files.js';
import { MethodsRefused, oneLine, type CliIO, type Refusal } from '../errors.js';
import { loadInput, resolveInputPreprocess, shapeText, stemOf, type InputBatch } from '../inputs.js';
import { readLabels } from '../labels.js';
import { startProgress } from '../progress.js';
import { displayOf, runNotes } from '../render.js';
import { commandLine, prettyJson, round, summarizePreprocess, versions, type DisplaySummary, type EarlierRun, type ExplainReport, type InputReport } from '../summary.js';
import { OutputDir } from '../outputDir.js';
import { checkReplaceable, reconcileSummary, stemOfReport, SUMMARY_FILE } from './folder.js';
import { writeInput } from './outputs.js';
import { frameworkOptionsFor, type ExplainCliOptions, type ExplainPlan, type RunContext } from './plan.js';

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

/** `--list-layers`: prints the layers one can compute layer maps at, and writes nothing. */
export async function listLayers(opts: ExplainCliOptions, io: CliIO): Promise<void> {
  const explainer = await Explainer.load(opts.model);
  let dims: number[] | undefined;
  const npy = opts.inputNpy?.[0];
  if (npy !== undefined) {
    const batch = await loadInput({ kind: 'npy', file: npy }, explainer, null);
    dims = canonicalDims(explainer, batch.tensor.dims);
  }
  const layers = explainer.layers(dims);
  if (opts.json) io.stdout(`${JSON.stringify(layers)}\n`);
  else for (const l of layers) io.stdout(`${l.name}\t${l.op}\t${shapeText(l.shape)}${l.layout ? `\t${l.layout}` : ''}\n`);
}

/** What a run wrote, and the methods it left out (with usage errors told apart). */
export interface ExplainRun {
  report: ExplainReport;
  refusals: Refusal[];
  /** The input folders this run wrote (report.inputs also lists the earlier sets in the folder). */
  written: string[];
}

/**
 * Runs `explain` for a validated plan and writes its files; returns the summary. Methods the model
 * refuses are left out of every input and listed; when none is left, it throws `MethodsRefused`
 * and writes nothing.
 */
export async function explainCommand(plan: ExplainPlan, io?: CliIO): Promise<ExplainRun> {
  const t0 = performance.now();

  // Output folders: distinct per input, creatable and writable, before any work.
  const seen = new Map<string, string>();
  for (const { file } of plan.inputs) {
    const dir = join(plan.out, stemOf(file));
    const other = seen.get(dir);
    if (stemOf(file) === 'summary.json') throw new BacklightError(`input '${file}' would write to '${dir}', where summary.json goes; rename it`, 'usage');
    if (other !== undefined) throw new BacklightError(`inputs '${other}' and '${file}' would both write to '${dir}'; rename one of them`, 'usage');
    seen.set(dir, file);
  }
  await checkWritableFolder(plan.out);
  for (const dir of seen.keys()) {
    await checkWritableFolder(dir);
    await checkReplaceable(dir);
  }
  if (plan.dumpGraph) await checkWritableFolder(dirname(plan.dumpGraph), 'folder of --dump-graph');

  // Model, preprocessing, inputs, targets and labels: all checked before anything is computed.
  const explainer = await Explainer.load(plan.model, { threads: plan.threads });
  const preprocess = resolveInputPreprocess(plan.preprocess, explainer, plan.inputs[0]!.kind);
  const batches: InputBatch[] = [];
  for (const spec of plan.inputs) batches.push(await loadInput(spec, explainer, preprocess));
  let classes = 0;
  for (const b of batches) {
    classes = classCount(explainer, b.tensor.dims, plan.model);
    validateTargets(plan.targets, classes);
  }
  const labels = plan.labels !== undefined ? await readLabels(plan.labels, classes) : null;
  const box = resolveBox(plan.params, preprocess, batches[0]!.geometry?.channels ?? null);
  const params = Object.fromEntries(plan.methods.map((m) => [m, paramsFor(m, plan.params, box)])) as Record<ExplainMethodName, MethodParams>;
  if (plan.layers.layers.length > 0) {
    const known = new Set(explainer.layers(canonicalDims(explainer, batches[0]!.tensor.dims)).map((l) => l.name));
    const unknown = plan.layers.layers.find((l) => !known.has(l));
    if (unknown !== undefined) throw new BacklightError(`unknown layer '${unknown}': it is no 4-D tensor [N, C, h, w] or token layer of the model (--list-layers prints them)`, 'usage');
  }
  const loadMs = performance.now() - t0;

  // The folder: locked (a second run into it is refused), swept of what interrupted runs left, its
  // summary made to describe the sets it holds. Then every method of every input; each input's files
  // appear as one set, and summary.json is rewritten after each (src/cli/outputDir.ts).
  const say = (line: string): void => {
    if (plan.format === 'text') io?.stderr(`backlight: note: ${line}\n`);
  };
  const output = await OutputDir.open(plan.out, { command: commandLine(plan.argv), note: say });
  const several = batches.length > 1 || plan.methods.length > 1;
  const progress = startProgress(io, batches.length * (plan.methods.length + 1), several && plan.format === 'text');
  try {
    const { sets, summary: before } = await reconcileSummary(output, plan.out);
    const ctx: RunContext = { plan, explainer, positions: targetPositions(plan.targets), labels, progress, params, output, previous: sets };
    const reports: InputReport[] = [];
    const refusals: Refusal[] = [];
    const probed = await probeMethods(ctx, batches, refusals);
    const methods = plan.methods.filter((m) => !refusals.some((r) => r.method === m));
    if (methods.length === 0) throw new MethodsRefused(refusals);
    let dumpGraph: string | null = null;
    if (plan.dumpGraph) {
      const first = batches[0]!;
      const bytes = explainer.compileToOnnx(canonicalDims(explainer, first.tensor.dims), { method: methods[0]!, target: plan.targets, reductions: [], params: params[methods[0]!], ...frameworkOptionsFor(methods[0]!, plan.layers) });
      await writeFileAtomic(plan.dumpGraph, bytes);
      dumpGraph = plan.dumpGraph;
    }

    const notes = runNotes(plan.notes, methods, explainer.canonical(canonicalDims(explainer, batches[0]!.tensor.dims)).graph);
    const display: DisplaySummary = { png: plan.pictures.png, methods: { ...(before?.display?.methods ?? {}) }, clipPercentile: plan.pictures.clip, opacity: plan.pictures.opacity };
    for (const m of methods) {
      const how = displayOf(m, plan.pictures.signed, plan.pictures.colormap);
      display.methods[m] = { values: how.signed ? 'signed channel sum' : 'max |.| over channels', colormap: how.colormap };
    }
    const runParams = Object.fromEntries(methods.filter((m) => Object.keys(params[m]).length > 0).map((m) => [m, params[m]]));
    const earlierRuns: EarlierRun[] = before?.commandLine ? [...(before.earlierRuns ?? []), { commandLine: before.commandLine, model: before.model, methods: before.methods, targets: before.targets }] : [];
    const summary = join(plan.out, SUMMARY_FILE);
    const report: ExplainReport = {
      command: 'explain',
      commandLine: commandLine(plan.argv),
      argv: plan.argv,
      versions: versions(),
      model: plan.model,
      classes,
      labels: plan.labels ?? null,
      out: plan.out,
      methods,
      refused: refusals.map(({ method, reason }) => ({ method: method as ExplainMethodName, reason })),
      params: { ...(before?.params ?? {}), ...runParams },
      zbBounds: box && { source: plan.boxSource === 'box' ? '--box' : 'preprocessing', low: [...box.low], high: [...box.high] },
      targets: plan.targets.map(String),
      preprocessing: summarizePreprocess(preprocess),
      display,
      inputs: [],
      dumpGraph,
      notes,
      summary,
      timings: { loadMs: round(loadMs), totalMs: 0 },
    };
    // After each input: every set in the folder, earlier ones first (this run's replace theirs).
    const writeSummary = async (): Promise<void> => {
      const mine = new Set(reports.map(stemOfReport));
      const kept = [...sets.entries()].filter(([stem]) => !mine.has(stem)).map(([stem, r]) => ({ ...r, timings: before?.inputs.find((b) => stemOfReport(b) === stem)?.timings ?? [] }));
      report.inputs = [...kept, ...reports];
      const mergedEarlier = kept.length > 0 || reports.some((r) => Object.keys(r.images[0]?.methods ?? {}).some((m) => !methods.includes(m as ExplainMethodName)));
      if (mergedEarlier && earlierRuns.length > 0) report.earlierRuns = earlierRuns;
      else delete report.earlierRuns;
      report.timings.totalMs = round(performance.now() - t0);
      await output.writeFile(SUMMARY_FILE, `${prettyJson(report)}\n`);
    };
    ctx.afterSet = async (r) => {
      reports.push(r);
      await writeSummary();
    };
    for (const batch of batches) await explainInput(ctx, batch, methods, probed.get(batch));
    if (plan.format === 'text') for (const note of notes) io?.stderr(`backlight: note: ${note}\n`);
    // This run's view: its own inputs first in what it prints, every set in summary.json.
    return { report, refusals, written: reports.map((r) => r.dir) };
  } finally {
    progress.stop();
    await output.release();
  }
}

/** Explains `batch` with `method`. */
async function explainWith(ctx: RunContext, batch: InputBatch, method: ExplainMethodName): Promise<Explanation<ExplainMethodName>> {
  const { plan, explainer, progress } = ctx;
  progress.begin(`${batch.stem}: ${method}`);
  const r = await explainer.explain(batch.tensor, { method, target: plan.targets, reductions: [], params: ctx.params[method], ...frameworkOptionsFor(method, plan.layers) });
  progress.done();
  return r;
}

/**
 * Runs every method on the first input of each shape (what a method compiles to depends on the
 * model, its options and the input's shape only): a method that throws a BacklightError there is
 * refused, added to `refusals` and not tried again. Returns the explanations computed.
 */
async function probeMethods(ctx: RunContext, batches: readonly InputBatch[], refusals: Refusal[]): Promise<Map<InputBatch, Explanation<ExplainMethodName>[]>> {
  const probed = new Map<InputBatch, Explanation<ExplainMethodName>[]>();
  const shapes = new Set<string>();
  for (const batch of batches) {
    const shape = batch.tensor.dims.join('x');
    if (shapes.has(shape)) continue;
    shapes.add(shape);
    const results: Explanation<ExplainMethodName>[] = [];
    for (const method of ctx.plan.methods) {
      if (refusals.some((r) => r.method === method)) continue;
      try {
        results.push(await explainWith(ctx, batch, method));
      } catch (e) {
        if (!(e instanceof BacklightError)) throw e;
        ctx.progress.done();
        refusals.push({ method, reason: oneLine(e.message), usage: e.kind === 'usage' });
      }
    }
    probed.set(batch, results);
  }
  return probed;
}

/** Explains one input with `methods` (reusing what the probe computed), then writes all its files (all or none). */
async function explainInput(ctx: RunContext, batch: InputBatch, methods: readonly ExplainMethodName[], probed?: readonly Explanation<ExplainMethodName>[]): Promise<InputReport> {
  // Compute everything for this input, then write: a failing run writes no file of it.
  const results: Explanation<ExplainMethodName>[] = [];
  for (const method of methods) results.push(probed?.find((r) => r.method === method) ?? (await explainWith(ctx, batch, method)));
  if (!probed) for (let i = methods.length; i < ctx.plan.methods.length; i++) ctx.progress.done(); // the refused methods' steps
  return writeInput(ctx, batch, results);
}
