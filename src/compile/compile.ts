/**
 * The explanation compiler: canonical forward graph + method → ONE ONNX graph computing the
 * forward pass, the seeds on the logits, the modified backward pass (one rule per node, K seeds
 * as one batch), the layer maps and the attribution tensors. The phases live in their own files
 * (compilation, seeds, backward/walk/contrastive/meta, aggregate, outputs); `compile` runs them in
 * order. See docs/design/compiler.md.
 *
 * Compiled graph interface:
 *   inputs:  `input` [N, …]  (the model's input, renamed)
 *            `seed`  [N, G, classes] float32: the G seeds given by the caller (absent when G = 0)
 *   outputs: `logits` [N, classes]
 *            `targets` [N, T] int64: the T classes the graph picked (top-T logits; absent when T = 0)
 *            `attribution` [N, K, …input dims] (a layer map: [N, K, 1, H, W])
 *            `map_<reduction>` [N, K, …spatial] one map per image and target
 *            `act:<tensor>` [N, …] / `grad:<tensor>` [N, K, …] for each tap: forward value and
 *            backward signal at that tensor
 *            `agg:<A>:<L>`, `up:<A>:<L>`, `combined:<A>` with layer maps (see aggregate.ts)
 */
import { UnsupportedOpError } from '../errors.js';
import type { Graph, Node } from '../ir/graph.js';
import { CANONICALIZED_OPS, RULES } from '../rules/index.js';
import type { Lowering } from '../rules/types.js';
import { emitLayerMaps, type AggregationOutputs, type AggregationSpec } from './aggregate.js';
import { backwardPass, inputAttribution, type BackwardOptions } from './backward.js';
import { beginCompilation, finishCompilation, phaseEmitter, type CompiledGraph, type Reduction, type SeedCounts } from './compilation.js';
import { emitAttribution, emitTaps, perImage } from './outputs.js';
import { emitSeeds } from './seeds.js';

export { INPUT, REDUCTIONS, SEED, type CompiledGraph, type Reduction } from './compilation.js';

/**
 * What `attribution` holds:
 * - 'input': the backward signal at the model input, [N, K, …input dims];
 * - 'layerMap': the first aggregation's upsampled map (its combination over the layers with
 *   `combine`), [N, K, 1, H, W]; with `times`, the input signal of a second backward pass with
 *   those options (same graph, same seeds) ⊙ that map, [N, K, C, H, W] (Guided Grad-CAM).
 */
export type AttributionSource = { from: 'input' } | { from: 'layerMap'; times?: BackwardOptions };

export interface CompileOptions extends BackwardOptions {
  /** Op choices for the runtime that will run the graph (see Lowering); default CPU_LOWERING. */
  lowering?: Lowering;
  /**
   * Seeds per image: `top` one-hot seeds on the highest logits, chosen in the graph, followed by
   * `given` seeds fed as the `seed` input.
   */
  seeds: SeedCounts;
  reductions?: readonly Reduction[];
  /** The input's channels are its last axis ([N, H, W, C], TF.js models): the maps reduce that axis. */
  channelsLast?: boolean;
  /** Forward tensor names whose activation and backward signal become outputs. */
  taps?: readonly string[];
  /** Layer maps from the backward signal at layers (the framework's aggregation phase). */
  layerMaps?: AggregationSpec;
  /** Default { from: 'input' }. */
  attribution?: AttributionSource;
}

export interface Compiled extends CompiledGraph {
  /** The layer-map outputs, with `layerMaps`. */
  layerMaps?: AggregationOutputs;
}

/**
 * Throws a one-line error naming every op type of the model that Backlight cannot handle, with
 * its node count and first node (short: the supported list is in the README and `supportedOps()`).
 */
export function checkSupported(g: Graph, source = 'model'): void {
  const known = new Set([...RULES.keys(), ...CANONICALIZED_OPS]);
  const bad = new Map<string, Node[]>();
  for (const n of g.nodes) if (!known.has(n.op)) bad.set(n.op, [...(bad.get(n.op) ?? []), n]);
  if (bad.size === 0) return;
  const [[op, nodes]] = [...bad] as [[string, Node[]]];
  const first = nodes[0]!;
  if (bad.size === 1) {
    const more = nodes.length > 1 ? ` (${nodes.length} nodes)` : '';
    throw new UnsupportedOpError(first.name, op, `no backward rule for op '${op}' in ${source}${more}`);
  }
  const list = [...bad].map(([o, ns]) => `${o} (${ns.length === 1 ? `node '${ns[0]!.name}'` : `${ns.length} nodes, first '${ns[0]!.name}'`})`);
  throw new UnsupportedOpError(first.name, op, `no backward rule for ${bad.size} op types in ${source}: ${list.join(', ')}`);
}

export function compile(canonical: Graph, opts: CompileOptions): Compiled {
  const c = beginCompilation(canonical, opts.seeds, opts.lowering);
  const seeds = emitSeeds(c, opts.seeds);
  const taps = opts.taps ?? [];
  const layers = opts.layerMaps?.layers ?? [];
  const read = [...new Set([...layers, ...taps])];
  const pass = backwardPass(c, seeds, opts, read);
  const source = opts.attribution ?? { from: 'input' };
  const attributionShape = [c.batch, c.k, ...c.inputShape.slice(1)];
  const reductions = opts.reductions ?? [];

  if (source.from === 'input') emitAttribution(c, c.emit, perImage(c, c.emit, inputAttribution(c, pass), c.inputShape), attributionShape, reductions, opts.channelsLast ? attributionShape.length - 1 : 2);
  const signals = emitTaps(c, pass, read, new Set(taps));
  const layerMaps = opts.layerMaps ? emitLayerMaps(c, opts.layerMaps, signals) : undefined;
  if (source.from === 'layerMap') {
    if (!opts.layerMaps || !layerMaps) throw new Error("compile: an attribution from a layer map needs 'layerMaps'");
    const primary = opts.layerMaps.aggregations[0]!;
    const map = layerMaps.combined[primary] ?? layerMaps.layers[layers[0]!]![primary]!.upsampled;
    const guided = source.times && backwardPass(c, seeds, source.times, [], phaseEmitter(c, 'guided'));
    const emit = phaseEmitter(c, 'fw');
    const mapChannel = emit.op('Unsqueeze', [map, emit.int64s([2])], {}, 'mapChannel'); // [N, K, 1, H, W]
    if (guided) {
      const signal = perImage(c, guided.emit, inputAttribution(c, guided), c.inputShape);
      emitAttribution(c, emit, emit.op('Mul', [signal, mapChannel], {}, 'guidedGradcam'), attributionShape, reductions);
    } else {
      emitAttribution(c, emit, mapChannel, [c.batch, c.k, 1, ...c.inputShape.slice(2)], reductions);
    }
  }
  return { ...finishCompilation(c), ...(layerMaps ? { layerMaps } : {}) };
}
