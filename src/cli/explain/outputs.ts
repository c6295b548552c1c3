/**
 * `backlight explain`, outputs: the files of one input (attributions and layer maps as .npy,
 * logits, targets.json, pictures), written all or none, and what its summary reports of them.
 */
import { join } from 'node:path';
import { positionLabel, predictionOf, slotOfAll, softmaxRow, topPredictions, type Aggregation, type ExplainMethodName, type Explanation, type TargetPosition, type TensorLike } from '../../core.js';
import { writeFilesAtomic, type FileToWrite } from '../../io/files.js';
import { encodeNpy } from '../../io/npy.js';
import { sizeOf } from '../../ir/tensor.js';
import { shapeText, type InputBatch } from '../inputs.js';
import { drawImage } from '../render.js';
import { prettyJson, round, type ImageReport, type InputReport, type TargetSlot, type TargetUse } from '../summary.js';
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

/** Draws and writes every file of one input from its explanations (all or none); returns its report. */
export async function writeInput(ctx: RunContext, batch: InputBatch, results: Explanation<ExplainMethodName>[]): Promise<InputReport> {
  const { plan, labels, progress } = ctx;
  progress.begin(`${batch.stem}: ${plan.pictures.png && batch.geometry ? 'drawing and writing' : 'writing'}`);
  const first = results[0]!;
  for (const r of results) {
    if (!sameTargets(r.targets, first.targets)) throw new Error(`methods ${first.method} and ${r.method} resolved different targets`);
  }
  const slots = nameSlots(ctx.positions, first.targets);
  const n = batch.tensor.dims[0]!;
  const dir = join(plan.out, batch.stem);
  const files: FileToWrite[] = [];
  const add = (name: string, data: Uint8Array | string): void => void files.push({ path: join(dir, name), data });

  // Attributions, logits and targets.json.
  const npyNames: Partial<Record<ExplainMethodName, string[]>> = {};
  const layerNames: Partial<Record<ExplainMethodName, Array<Record<string, string>>>> = {};
  const written = new Set<string>();
  for (const r of results) {
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
  const byMethod = Object.fromEntries(Object.entries(npyNames).map(([m, names]) => [m, [...new Set(names)]]));
  const targetsDoc = {
    input: batch.source,
    shape: batch.fileDims,
    batch: n,
    classes: first.logits.dims[1],
    targets: plan.targets.map(String),
    slots: slots.map((s) => ({ spec: s.spec, ...(s.rank !== undefined ? { rank: s.rank } : {}), name: s.name, classes: s.classes })),
    perImage: first.targets,
    files: byMethod,
  };
  add('targets.json', `${prettyJson(targetsDoc)}\n`);

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

  await writeFilesAtomic(files);
  progress.done();
  return {
    input: batch.source,
    kind: batch.kind,
    dir,
    shape: batch.fileDims,
    ...(batch.original ? { original: batch.original } : {}),
    targets: slots,
    perImage: first.targets,
    images,
    files: files.map((f) => f.path),
    noPictures,
    timings: results.map((r) => ({ method: r.method, compileMs: round(r.timings.compileMs), runMs: round(r.timings.runMs) })),
  };
}
