/**
 * Model files as the CLI takes them: an ONNX file, or a TF.js model.json whose weight shards lie
 * beside it (imported, then written as ONNX bytes, so commands that work on ONNX bytes take both).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BacklightError } from '../errors.js';
import { shardsBeside } from '../index.js';
import type { Graph } from '../ir/graph.js';
import { encodeModel } from '../onnx/encode.js';
import { DEFAULT_BUDGET } from '../onnx/validate.js';
import { importTfjsModel, looksLikeJson } from '../tfjs/import.js';
import { readHashed } from '../io/files.js';

export type InputLayout = 'nhwc' | 'nchw';

/** Imports a TF.js model.json at `file` (shards beside it) into the graph IR. */
export async function importTfjsFile(file: string, inputLayout: InputLayout = 'nhwc'): Promise<Graph> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BacklightError(`cannot read model file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return importTfjsModel(text, shardsBeside(file), file, DEFAULT_BUDGET, { inputLayout });
}

/**
 * The model at `file` as ONNX bytes with their sha256: an ONNX file as it is, a TF.js model.json
 * converted (with `inputLayout` for its 4-D input; the hash is then the converted bytes', which
 * cover the shards' weights).
 */
export async function readModelAsOnnx(file: string, inputLayout: InputLayout = 'nhwc'): Promise<{ bytes: Uint8Array; hash: string; tfjs: boolean }> {
  const read = await readHashed(file);
  // A TF.js model.json is told from ONNX bytes by its first bytes, as Explainer.load tells them.
  if (!looksLikeJson(read.bytes)) return { ...read, tfjs: false };
  const bytes = encodeModel(await importTfjsFile(file, inputLayout), 'backlight convert');
  return { bytes, hash: createHash('sha256').update(bytes).digest('hex'), tfjs: true };
}
