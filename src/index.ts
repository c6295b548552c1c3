/**
 * Backlight for Node.js: the core library bound to onnxruntime-node.
 *
 * ```ts
 * import { Explainer } from 'backlight';
 * const ex = await Explainer.load('model.onnx');
 * const r = await ex.explain({ data, dims: [1, 3, 224, 224] }, { method: 'guided-backprop', target: 'max' });
 * r.targets[0][0];        // the class explained
 * r.maps.maxabs!.dims;     // [1, 1, 224, 224]
 *
 * // From a photo: decode, preprocess (Pillow's resize, as torchvision), name the classes.
 * const { tensor, plan } = preprocess(await loadImage('cat.jpg'), 'imagenet');
 * const r2 = await ex.explain(tensor, { method: 'lrp', params: { composite: 'gu2018', box: plan.box } });
 * topK(r2.logits, 5, presets.imagenet.classes);
 * ```
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { BacklightError, escapeControl } from './errors.js';
import { Explainer as CoreExplainer, type ExplainerOptions } from './methods/explainer.js';
import type { OrtModule } from './runtime/runtime.js';

/**
 * The weight shards of a TF.js model.json at `jsonPath`: files beside it, named as its manifest
 * names them (a name that leaves the json's folder is refused).
 */
export function shardsBeside(jsonPath: string): (name: string) => Promise<Uint8Array> {
  const dir = jsonPath.slice(0, Math.max(jsonPath.lastIndexOf('/'), jsonPath.lastIndexOf('\\')) + 1);
  return async (name) => {
    // Names are relative to the json, as tfjs resolves them; one that climbs out or is absolute is refused.
    if (/^([a-zA-Z]:)?[\\/]/.test(name) || name.split(/[\\/]/).includes('..')) {
      throw new BacklightError(`${jsonPath}: weight shard '${escapeControl(name)}' is outside the model's folder; shards are read beside model.json`);
    }
    try {
      return await readFile(dir + name);
    } catch (e) {
      throw new BacklightError(`${jsonPath}: cannot read weight shard '${escapeControl(name)}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the shards listed in weightsManifest must lie beside model.json`);
    }
  };
}

export class Explainer extends CoreExplainer {
  /**
   * Loads an ONNX model, or a TF.js layers model (a model.json path: its weight shards are read
   * beside it), from a file path or bytes, running on onnxruntime-node (CPU by default).
   */
  static async load(model: string | Uint8Array, options: ExplainerOptions = {}): Promise<CoreExplainer> {
    let bytes: Uint8Array;
    let source = options.source ?? 'model';
    if (typeof model === 'string') {
      source = options.source ?? model;
      try {
        bytes = await readFile(model);
      } catch (e) {
        throw new BacklightError(`cannot read model file '${model}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    } else bytes = model;
    const shards = options.shards ?? (typeof model === 'string' ? shardsBeside(model) : undefined);
    return CoreExplainer.create(bytes, ort as unknown as OrtModule, { ...options, source, ...(shards ? { shards } : {}) });
  }
}

export * from './core.js';
export { loadImage, type ImageInput } from './io/loadImage.js';
export type { DecodedFile } from './io/image.js';
