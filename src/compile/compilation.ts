/**
 * The state every compile phase shares: the model being compiled (a clone of the canonical graph,
 * its nodes the forward pass), the name scope, the emitters of the phases, and the compiled graph's
 * inputs and outputs as the phases add them. `beginCompilation` sets up the interface names and
 * `finishCompilation` assembles the graph; the phases in between add nodes through an emitter.
 */
import { BacklightError } from '../errors.js';
import { NameScope, cloneGraph, removeDeadNodes, scheduleWhenReady, shapeOf, type Graph, type ValueInfo } from '../ir/graph.js';
import { CPU_LOWERING, type Lowering } from '../rules/types.js';
import { Emitter } from '../ir/emitter.js';

export type Reduction = 'maxabs' | 'sum' | 'l2';
export const REDUCTIONS: readonly Reduction[] = ['maxabs', 'sum', 'l2'];

export const INPUT = 'input';
export const SEED = 'seed';

/** Seeds per image: `top` chosen in the graph on the highest logits, then `given` fed as `seed`. */
export interface SeedCounts {
  top: number;
  given: number;
}

export interface CompiledGraph {
  graph: Graph;
  k: number;
  batch: number;
  classes: number;
  inputShape: number[];
}

export interface Compilation {
  /** The model being compiled; its nodes stay the forward pass until `finishCompilation`. */
  readonly graph: Graph;
  readonly scope: NameScope;
  /** The main emitter ('bwd'): seeds, the method's backward pass, attribution, taps. */
  readonly emit: Emitter;
  readonly lowering: Lowering;
  /** Seeds (targets) per image. */
  readonly k: number;
  readonly batch: number;
  readonly classes: number;
  /** The model input's shape [N, …]; the input tensor is named INPUT. */
  readonly inputShape: number[];
  /** The model's logits tensor [N, classes]. */
  readonly logits: string;
  /** The compiled graph's inputs and outputs, in the order phases add them. */
  readonly inputs: ValueInfo[];
  readonly outputs: ValueInfo[];
  /** Emitters of later phases, whose nodes follow the main emitter's in the graph. */
  readonly phases: Emitter[];
}

/** Renames a tensor everywhere it appears (producer, readers, initializer, shape table). */
function renameTensor(g: Graph, from: string, to: string): void {
  if (from === to) return;
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((i) => (i === from ? to : i));
    n.outputs = n.outputs.map((o) => (o === from ? to : o));
  }
  const init = g.initializers.get(from);
  if (init) {
    g.initializers.delete(from);
    g.initializers.set(to, init);
  }
  const v = g.values.get(from);
  if (v) {
    g.values.delete(from);
    g.values.set(to, { ...v, name: to });
  }
  for (const io of [...g.inputs, ...g.outputs]) if (io.name === from) io.name = to;
}

/**
 * Checks the model and the seed counts, clones the graph, moves model tensors that use an
 * interface name aside, names the input INPUT and outputs `logits`.
 */
export function beginCompilation(canonical: Graph, seeds: SeedCounts, lowering: Lowering = CPU_LOWERING): Compilation {
  const g = cloneGraph(canonical);
  const k = seeds.top + seeds.given;
  if (![seeds.top, seeds.given].every((x) => Number.isInteger(x) && x >= 0) || k < 1) {
    throw new BacklightError(`the number of targets must be a positive integer (got ${seeds.top} + ${seeds.given})`, 'usage');
  }
  const modelInput = g.inputs[0]!;
  const inputShape = shapeOf(g, modelInput.name);
  let logits = g.outputs[0]!.name;
  const logitsShape = shapeOf(g, logits);
  if (logitsShape.length !== 2) {
    throw new BacklightError(`the model output '${logits}' has shape [${logitsShape}]; Backlight explains classifiers whose output is [batch, classes]`);
  }
  const [batch, classes] = logitsShape as [number, number];
  if (seeds.top > classes) throw new BacklightError(`cannot explain the top ${seeds.top} classes of a model with ${classes} classes`, 'usage');

  const scope = new NameScope(g);
  const reserved = [INPUT, SEED, 'logits', 'targets', 'attribution', ...REDUCTIONS.map((r) => `map_${r}`)];
  for (const name of reserved) {
    if (name === modelInput.name || (name === 'logits' && logits === 'logits')) continue;
    if (g.values.has(name) || g.initializers.has(name)) renameTensor(g, name, scope.fresh(name));
  }
  for (const name of reserved) scope.reserve(name);
  logits = g.outputs[0]!.name;
  const emit = new Emitter(scope, g.initializers);
  renameTensor(g, modelInput.name, INPUT);

  const c: Compilation = {
    graph: g, scope, emit, lowering, k, batch, classes, inputShape, logits,
    inputs: [{ name: INPUT, dtype: 'float32', shape: inputShape }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: logitsShape }],
    phases: [],
  };
  if (logits !== 'logits') emit.nodes.push({ name: 'logits_out', op: 'Identity', domain: '', inputs: [logits], outputs: ['logits'], attrs: {} });
  return c;
}

/** An emitter for a later phase: its generated names start with `prefix`, its nodes follow. */
export function phaseEmitter(c: Compilation, prefix: string): Emitter {
  const e = new Emitter(c.scope, c.graph.initializers, prefix);
  c.phases.push(e);
  return e;
}

/** Makes `tensor` the graph output `name`. */
export function addOutput(c: Compilation, emit: Emitter, tensor: string, name: string, shape: number[], dtype: ValueInfo['dtype'] = 'float32'): void {
  emit.nodes.push({ name: `${name}_out`, op: 'Identity', domain: '', inputs: [tensor], outputs: [name], attrs: {} });
  c.outputs.push({ name, dtype, shape });
}

/** Whether a graph output or a model tensor already has this name. */
export function nameTaken(c: Compilation, name: string): boolean {
  const g = c.graph;
  return c.outputs.some((o) => o.name === name) || g.values.has(name) || g.initializers.has(name) || g.nodes.some((n) => n.outputs.includes(name));
}

/** Assembles the compiled graph: forward nodes, then each emitter's; drops what no output reads. */
export function finishCompilation(c: Compilation): CompiledGraph {
  const g = c.graph;
  g.nodes = [...g.nodes, ...c.emit.nodes, ...c.phases.flatMap((e) => e.nodes)];
  g.inputs = c.inputs;
  g.outputs = c.outputs;
  // Rules may emit values that a later rule regroups away (Emitter.products).
  removeDeadNodes(g);
  // Each node right after its inputs: onnxruntime's session creation stays linear (see scheduleWhenReady).
  scheduleWhenReady(g);
  return { graph: g, k: c.k, batch: c.batch, classes: c.classes, inputShape: c.inputShape };
}
