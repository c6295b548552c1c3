/**
 * `backlight explain`, outputs: the files of one input (attributions and layer maps as .npy,
 * logits, targets.json, pictures), written all or none, and what its summary reports of them.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { positionLabel, predictionOf, slotOfAll, softmaxRow, topPredictions, type Aggregation, type ExplainMethodName, type Explanation, type TargetPosition, type TensorLike } from '../../core.js';
import { decodeNpy, encodeNpy } from '../../io/npy.js';
import { sizeOf } from '../../ir/tensor.js';
import { shapeText, type InputBatch } from '../inputs.js';
import { drawImage, type DrawableResult } from '../render.js';
import { prettyJson, round, type ImageReport, type InputReport, type SetRecord, type TargetSlot, type TargetUse } from '../summary.js';
import { primaryAggregation, type RunContext } from './plan.js';

/** A tensor name as a file name part: characters outside [A-Za-z0-9._-] become '_'. */
export function sanitizeLayerName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The dims of one slot's attribution file: the input file's shape when the sizes agree, else [N, …]. */
function slotDims(attribution: TensorLike, batch: InputBatch): number[] {
  const n = attribution.dims[0]!;
  const rest = attribution.dims.slice(2);
  if (n * sizeOf(rest) === sizeOf(batch.fileDims)) return [...batch.fileDims];
  return [n, ...rest];
}

/** Names the target slots: by class where every image used the same one, else by spec. */
export function nameSlots(positions: readonly TargetPosition[], perImage: readonly number[][]): TargetSlot[] {
  return positions.map((p, k) => {
    const classes = perImage.map((t) => t[k]!);
    const same = classes.every((c) => c === classes[0]);
    return { ...p, classes, name: same ? String(classes[0]) : positionLabel(p) };
  });
}

export function sameTargets(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((row, i) => row.length === b[i]!.length && row.every((c, j) => c === b[i]![j]));
}

/** The methods an earlier set of an input holds, in the order of its first image. */
function methodsOf(r: InputReport): ExplainMethodName[] {
  return Object.keys(r.images[0]?.methods ?? {}) as ExplainMethodName[];
}

/**
 * Whether this run's results for an input can be merged with the set already in the folder: the
 * same model, input shape and target classes (slot by slot), so that the earlier methods' files
 * describe the same predictions and fit in the same grid columns.
 */
function mergeable(prev: InputReport | undefined, model: string, batch: InputBatch, slots: readonly TargetSlot[], perImage: number[][]): prev is InputReport {
  return (
    prev !== undefined &&
    prev.model === model &&
    prev.shape.join(',') === batch.fileDims.join(',') &&
    sameTargets(prev.perImage, perImage) &&
    prev.targets.map((s) => `${s.spec}=${s.name}`).join(',') === slots.map((s) => `${s.spec}=${s.name}`).join(',')
  );
}

/** An earlier method's attributions, read back from its .npy files, to redraw the grid with. */
async function readEarlier(dir: string, method: ExplainMethodName, prev: InputReport, logits: TensorLike): Promise<DrawableResult> {
  const uses = prev.images[0]!.methods[method]!;
  const slots: Float32Array[] = [];
  for (const u of uses) slots.push(decodeNpy(await readFile(join(dir, u.npy)), join(dir, u.npy)).data);
  const n = prev.images.length;
  return {
    method,
    logits,
    attributionAt: (i, k) => {
      const d = slots[k]!;
      const per = d.length / n;
      return d.subarray(i * per, (i + 1) * per);
    },
  };
}

/**
 * Draws every file of one input from its explanations and writes them as one set (a folder
 * renamed into place: all or none). The methods of an earlier set of the same input that this run
 * did not compute are kept (their .npy files, and their rows in the redrawn pictures) when the
 * sets agree on model and targets; otherwise the earlier set is replaced. Returns its report.
 */
export async function writeInput(ctx: RunContext, batch: InputBatch, computed: Explanation<ExplainMethodName>[]): Promise<InputReport> {
  const { plan, labels, progress } = ctx;
  progress.begin(`${batch.stem}: ${plan.pictures.png && batch.geometry ? 'drawing and writing' : 'writing'}`);
  const first = computed[0]!;
  for (const r of computed) {
    if (!sameTargets(r.targets, first.targets)) throw new Error(`methods ${first.method} and ${r.method} resolved different targets`);
  }
  const slots = nameSlots(ctx.positions, first.targets);
  const n = batch.tensor.dims[0]!;
  const dir = join(plan.out, batch.stem);
  const files: Array<{ name: string; data: Uint8Array | string }> = [];
  const add = (name: string, data: Uint8Array | string): void => void files.push({ name, data });

  // An earlier set of this input: its other methods stay (keyed by input and method).
  const prev = ctx.previous?.get(batch.stem);
  const merge = mergeable(prev, plan.model, batch, slots, first.targets);
  const ran = new Set<string>(computed.map((r) => r.method));
  const earlierMethods = merge ? methodsOf(prev).filter((m) => !ran.has(m)) : [];
  const keep = merge ? prev.files.map((f) => basename(f)).filter((f) => f.endsWith('.npy') && earlierMethods.some((m) => f.startsWith(`${m}__`))) : [];
  const earlier: DrawableResult[] = [];
  for (const m of earlierMethods) earlier.push(await readEarlier(join(ctx.output.root, batch.stem), m, prev!, first.logits));
  const results: DrawableResult[] = [...earlier, ...computed];

  // Attributions, logits and targets.json.
  const npyNames: Partial<Record<ExplainMethodName, string[]>> = {};
  const layerNames: Partial<Record<ExplainMethodName, Array<Record<string, string>>>> = {};
  for (const m of earlierMethods) {
    npyNames[m] = prev!.images[0]!.methods[m]!.map((u) => u.npy);
    const layers = prev!.images[0]!.methods[m]!.map((u) => u.layers);
    if (layers.every((l) => l !== undefined)) layerNames[m] = layers as Array<Record<string, string>>;
  }
  const written = new Set<string>();
  for (const r of computed) {
    const names: string[] = [];
    const perSlot: Array<Record<string, string>> = [];
    const dims = slotDims(r.attribution, batch);
    const primary = primaryAggregation(r.method, plan.layers);
    for (const [k, slot] of slots.entries()) {
      const name = `${r.method}__${slot.name}.npy`;
      // The same class twice (e.g. max and its index): the same data, written once.
      if (!written.has(name)) add(name, encodeNpy(r.slotOf(k), dims));
      written.add(name);
      names.push(name);
      const layerFiles: Record<string, string> = {};
      for (const [layer, maps] of Object.entries(r.layerMaps)) {
        for (const [a, map] of Object.entries(maps) as [Aggregation, { raw: TensorLike }][]) {
          const file = `${r.method}__${slot.name}__${sanitizeLayerName(layer)}${a === primary ? '' : `__${a}`}.npy`;
          const [nn, , h, w] = map.raw.dims as [number, number, number, number];
          if (!written.has(file)) add(file, encodeNpy(slotOfAll(map.raw, k), [nn, 1, h, w]));
          written.add(file);
          layerFiles[a === primary ? layer : `${layer}:${a}`] = file;
        }
      }
      perSlot.push(layerFiles);
    }
    npyNames[r.method] = names;
    if (Object.keys(r.layerMaps).length > 0) layerNames[r.method] = perSlot;
  }
  add('logits.npy', encodeNpy(first.logits.data, first.logits.dims));
  const byMethod = Object.fromEntries(results.map((r) => [r.method, [...new Set(npyNames[r.method]!)]]));
  const dataFiles = files.length;

  // Pictures, and what each image of the batch used.
  const noPictures = !plan.pictures.png ? 'turned off by --no-png' : !batch.geometry ? `the input ${shapeText(batch.fileDims)} is not an image batch [N, C, H, W] or [N, H, W, C] with C = 1 or 3` : null;
  const images: ImageReport[] = [];
  for (let i = 0; i < n; i++) {
    const drawn = noPictures === null ? await drawImage({ source: batch.source, geometry: batch.geometry!, display: batch.display, batch: n, photo: batch.image && batch.plan ? { image: batch.image, plan: batch.plan } : undefined }, i, results, slots, labels, plan.pictures) : null;
    for (const p of drawn?.pictures ?? []) add(p.name, p.data);
    const probs = softmaxRow(first.logits, i);
    const methods: ImageReport['methods'] = {};
    for (const r of results) {
      methods[r.method] = slots.map((slot, k): TargetUse => ({
        target: positionLabel(slot),
        ...predictionOf(first.logits, probs, i, slot.classes[i]!, labels),
        npy: npyNames[r.method]![k]!,
        ...(layerNames[r.method] ? { layers: layerNames[r.method]![k]! } : {}),
        png: drawn?.names[r.method]?.[k]?.png ?? null,
        overlay: drawn?.names[r.method]?.[k]?.overlay ?? null,
      }));
    }
    images.push({ index: i, predictions: topPredictions(first.logits, i, labels), methods, grid: drawn?.grid ?? null });
  }

  // targets.json also describes the whole set (without timings), so that summary.json can be
  // rebuilt from the sets in the folder after a run was killed (docs/design/output-discipline.md).
  // In the order written: data, targets.json, pictures; then the earlier methods' files kept.
  const names = [...files.slice(0, dataFiles).map((f) => f.name), 'targets.json', ...files.slice(dataFiles).map((f) => f.name), ...keep];
  const set: SetRecord = { model: plan.model, kind: batch.kind, ...(batch.original ? { original: batch.original } : {}), images, files: names, noPictures };
  const targetsDoc = {
    input: batch.source,
    shape: batch.fileDims,
    batch: n,
    classes: first.logits.dims[1],
    targets: plan.targets.map(String),
    slots: slots.map((s) => ({ spec: s.spec, ...(s.rank !== undefined ? { rank: s.rank } : {}), name: s.name, classes: s.classes })),
    perImage: first.targets,
    files: byMethod,
    set,
  };
  add('targets.json', `${prettyJson(targetsDoc)}\n`);

  const report: InputReport = {
    input: batch.source,
    kind: batch.kind,
    dir,
    shape: batch.fileDims,
    ...(batch.original ? { original: batch.original } : {}),
    model: plan.model,
    targets: slots,
    perImage: first.targets,
    images,
    files: names.map((f) => join(dir, f)),
    noPictures,
    timings: computed.map((r) => ({ method: r.method, compileMs: round(r.timings.compileMs), runMs: round(r.timings.runMs) })),
  };
  // The set renamed into place and summary.json rewritten to describe it, as one step.
  await ctx.output.writeSet(batch.stem, files, keep, async () => ctx.afterSet?.(report));
  progress.done();
  return report;
}
