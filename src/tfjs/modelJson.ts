/**
 * The model.json of a TensorFlow.js model (layers or graph model, as tfjs's converters and
 * `model.save` write it): its types and a parser that checks the parts every importer relies on
 * (the weights manifest) and leaves the topology to the importer of its format.
 */
import { BacklightError, escapeControl } from '../errors.js';

export type TfDtype = 'float32' | 'int32' | 'bool';
export type TfQuantDtype = 'uint8' | 'uint16' | 'float16';

/** How a weight is stored when the converter quantized it (`--quantize_uint8/uint16/float16`). */
export interface TfQuantization {
  dtype: TfQuantDtype;
  /** uint8/uint16: value = stored × scale + min. */
  scale?: number;
  min?: number;
  /** The dtype before quantization (float32 unless stated). */
  original_dtype?: TfDtype;
}

export interface TfWeightSpec {
  name: string;
  shape: number[];
  dtype: TfDtype;
  quantization?: TfQuantization;
}

/** One group of weights: its bytes are the listed shard files concatenated in order. */
export interface TfWeightsGroup {
  paths: string[];
  weights: TfWeightSpec[];
}

export interface TfModelJson {
  /** 'layers-model' or 'graph-model'; absent in model.json files written by old converters (layers). */
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  /** Keras topology (layers model) or a GraphDef as JSON (graph model); read by the format's importer. */
  modelTopology: Record<string, unknown>;
  weightsManifest: TfWeightsGroup[];
  signature?: Record<string, unknown>;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: Record<string, unknown>;
}

const DTYPES: readonly string[] = ['float32', 'int32', 'bool'];
const QUANT: readonly string[] = ['uint8', 'uint16', 'float16'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and checks model.json text; every problem is one line naming `source` and the field. */
export function parseModelJson(text: string, source = 'model.json'): TfModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BacklightError(`${source}: not valid JSON (${escapeControl((e as Error).message)}); expected a TensorFlow.js model.json`);
  }
  if (!isObject(raw)) throw new BacklightError(`${source}: expected a JSON object (a TensorFlow.js model.json)`);
  if (!isObject(raw.modelTopology)) {
    throw new BacklightError(`${source}: no 'modelTopology' object; not a TensorFlow.js model.json (a model.json lists 'modelTopology' and 'weightsManifest')`);
  }
  if (raw.format !== undefined && typeof raw.format !== 'string') throw new BacklightError(`${source}: 'format' must be a string`);
  const manifest = raw.weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new BacklightError(`${source}: 'weightsManifest' must be an array of {paths, weights}`);
  const groups = manifest.map((g, i) => checkGroup(g, `${source}: weightsManifest[${i}]`));
  const seen = new Set<string>();
  for (const g of groups) {
    for (const w of g.weights) {
      if (seen.has(w.name)) throw new BacklightError(`${source}: weight '${escapeControl(w.name)}' is listed twice in weightsManifest`);
      seen.add(w.name);
    }
  }
  return { ...(raw as unknown as TfModelJson), weightsManifest: groups };
}

function checkGroup(g: unknown, where: string): TfWeightsGroup {
  if (!isObject(g)) throw new BacklightError(`${where}: expected an object {paths, weights}`);
  const { paths, weights } = g;
  if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new BacklightError(`${where}: 'paths' must be an array of shard file names`);
  }
  if (!Array.isArray(weights)) throw new BacklightError(`${where}: 'weights' must be an array`);
  return { paths: paths as string[], weights: weights.map((w, j) => checkSpec(w, `${where}.weights[${j}]`)) };
}

function checkSpec(w: unknown, where: string): TfWeightSpec {
  if (!isObject(w)) throw new BacklightError(`${where}: expected an object {name, shape, dtype}`);
  if (typeof w.name !== 'string' || w.name.length === 0) throw new BacklightError(`${where}: 'name' must be a non-empty string`);
  const name = escapeControl(w.name);
  const shape = w.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new BacklightError(`${where} ('${name}'): 'shape' must be an array of integers ≥ 0`);
  }
  if (typeof w.dtype !== 'string' || !DTYPES.includes(w.dtype)) {
    throw new BacklightError(`${where} ('${name}'): dtype '${escapeControl(String(w.dtype))}' is not supported (supported: ${DTYPES.join(', ')})`);
  }
  const spec: TfWeightSpec = { name: w.name, shape: shape as number[], dtype: w.dtype as TfDtype };
  if (w.quantization !== undefined) {
    const q = w.quantization;
    if (!isObject(q) || typeof q.dtype !== 'string' || !QUANT.includes(q.dtype)) {
      throw new BacklightError(`${where} ('${name}'): quantization dtype must be one of ${QUANT.join(', ')}`);
    }
    if (q.dtype !== 'float16' && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) {
      throw new BacklightError(`${where} ('${name}'): ${q.dtype} quantization needs finite 'scale' and 'min'`);
    }
    if (q.original_dtype !== undefined && (typeof q.original_dtype !== 'string' || !DTYPES.includes(q.original_dtype))) {
      throw new BacklightError(`${where} ('${name}'): quantization original_dtype '${escapeControl(String(q.original_dtype))}' is not supported`);
    }
    spec.quantization = q as unknown as TfQuantization;
  }
  return spec;
}

/** The shard paths of the manifest, flattened in order (the order `readWeights` expects its shards). */
export function shardPaths(model: Pick<TfModelJson, 'weightsManifest'>): string[] {
  return model.weightsManifest.flatMap((g) => g.paths);
}
