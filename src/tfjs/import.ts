/**
 * A TensorFlow.js model (model.json + weight shards) → graph IR, dispatching on its format. The
 * shards are read through `readShard` (Node: files beside the json; browser: dropped files or a
 * URL base), so this module has no platform imports.
 */
import { BacklightError, escapeControl } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { DEFAULT_BUDGET, type ResourceBudget } from '../onnx/validate.js';
import { graphModelToGraph } from './graphModel.js';
import { importLayersModel, type LayersImportOptions } from './layersModel.js';
import { parseModelJson, shardPaths, type TfModelJson } from './modelJson.js';
import { readWeights } from './weights.js';

/** Returns the bytes of a shard named as the manifest names it (relative to the model.json). */
export type ShardReader = (path: string) => Promise<Uint8Array>;

/** Whether bytes look like a model.json rather than an ONNX protobuf (the first non-space byte is '{'). */
export function looksLikeJson(bytes: Uint8Array): boolean {
  for (const b of bytes.subarray(0, 64)) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09 || b === 0xef || b === 0xbb || b === 0xbf) continue; // space, BOM
    return b === 0x7b;
  }
  return false;
}

/** The format of a parsed model.json: its `format` field, or 'layers-model' for old files with a Keras topology. */
export function modelFormat(model: TfModelJson): string {
  if (model.format) return model.format;
  const t = model.modelTopology;
  return 'model_config' in t || 'class_name' in t ? 'layers-model' : 'unknown';
}

/**
 * Imports a model.json and its shards. The weights' size (as float32) is checked against
 * `budget.maxInitializerBytes` before any shard is read.
 */
export async function importTfjsModel(
  jsonText: string,
  readShard: ShardReader,
  source = 'model.json',
  budget: ResourceBudget = DEFAULT_BUDGET,
  options: LayersImportOptions = {},
): Promise<Graph> {
  const model = parseModelJson(jsonText, source);
  const format = modelFormat(model);
  if (format !== 'layers-model' && format !== 'graph-model') {
    throw new BacklightError(`${source}: unknown TF.js model format '${escapeControl(format)}' (expected layers-model or graph-model)`);
  }
  const bytes = model.weightsManifest.reduce((n, g) => n + g.weights.reduce((m, w) => m + 4 * w.shape.reduce((a, d) => a * d, 1), 0), 0);
  if (bytes > budget.maxInitializerBytes) {
    throw new BacklightError(`${source}: the weights hold ${bytes} bytes, more than the budget of ${budget.maxInitializerBytes} (ExplainerOptions.budget.maxInitializerBytes)`);
  }
  const paths = shardPaths(model);
  const shards: Uint8Array[] = [];
  for (const p of paths) shards.push(await readShard(p));
  const weights = readWeights(model.weightsManifest, shards, source);
  if (format === 'graph-model') return graphModelToGraph(model, weights, source, options);
  return importLayersModel(model.modelTopology, weights, source, options);
}
