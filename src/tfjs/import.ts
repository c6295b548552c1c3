/**
 * A TensorFlow.js model (model.json + weight shards) → graph IR, dispatching on its format. The
 * shards are read through `readShard` (Node: files beside the json; browser: dropped files or a
 * URL base), so this module has no platform imports.
 */
import { BacklightError, escapeControl } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { encodeModel } from '../onnx/encode.js';
import type { ResourceBudget } from '../onnx/budget.js';
import { DEFAULT_BUDGET } from '../onnx/validate.js';
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

/** A file's contents as a browser or Node holds them. */
export type FileData = Blob | Uint8Array | ArrayBuffer;

/** A model picked from dropped files: its main file, and for a model.json the reader of its shards. */
export interface DroppedModel {
  name: string;
  bytes: Uint8Array;
  shards?: ShardReader;
}

const bytesOf = async (v: FileData): Promise<Uint8Array> =>
  v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(await v.arrayBuffer());

/** Shard names in model.json are paths relative to it; dropped files only have their base names. */
const baseName = (p: string): string => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);

/**
 * The model among dropped files (name, contents): one .onnx file, or one model.json whose shards
 * are found among the others by base name; a single file of any name is taken as it is.
 */
export async function modelFromFiles(files: readonly (readonly [string, FileData])[]): Promise<DroppedModel> {
  const jsons = files.filter(([name]) => name.toLowerCase().endsWith('.json'));
  const onnx = files.filter(([name]) => name.toLowerCase().endsWith('.onnx'));
  const main = jsons.length === 1 ? jsons[0]! : onnx.length === 1 && jsons.length === 0 ? onnx[0]! : files.length === 1 ? files[0]! : undefined;
  if (!main) {
    throw new BacklightError(`the dropped files hold ${jsons.length} .json and ${onnx.length} .onnx files; give one .onnx model, or one TF.js model.json with its weight shards`);
  }
  const name = main[0];
  const bytes = await bytesOf(main[1]);
  if (!looksLikeJson(bytes)) return { name, bytes };
  const byName = new Map(files.map(([n, v]) => [baseName(n), v]));
  const shards: ShardReader = async (shard) => {
    const f = byName.get(baseName(shard));
    if (!f) throw new BacklightError(`${escapeControl(name)}: weight shard '${escapeControl(shard)}' is not among the dropped files; drop model.json together with all its shards`);
    return bytesOf(f);
  };
  return { name, bytes, shards };
}

/**
 * Dropped files as an ONNX model: an ONNX file as it is, a TF.js model.json imported and written
 * as ONNX (what `backlight convert` writes), for tools that keep and pass ONNX bytes (the page).
 */
export async function onnxFromFiles(
  files: readonly (readonly [string, FileData])[],
  budget: ResourceBudget = DEFAULT_BUDGET,
  options: LayersImportOptions = {},
): Promise<{ name: string; bytes: Uint8Array }> {
  const m = await modelFromFiles(files);
  if (!m.shards) return m;
  const graph = await importTfjsModel(new TextDecoder().decode(m.bytes), m.shards, m.name, budget, options);
  return { name: m.name, bytes: encodeModel(graph, 'backlight convert') };
}
