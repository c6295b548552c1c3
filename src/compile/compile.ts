/**
 * The explanation compiler: canonical forward graph + method → ONE ONNX graph computing the
 * forward pass, the seeds on the logits, the modified backward pass (one rule per node, K seeds
 * as one batch) and the attribution tensors.
 *
 * Compiled graph interface:
 *   inputs:  `input` [N, …]  (the model's input, renamed)
 *            `seed`  [N, G, classes] float32: the G seeds given by the caller (absent when G = 0)
 *   outputs: `logits` [N, classes]
 *            `targets` [N, T] int64: the T classes the graph picked (top-T logits; absent when T = 0)
 *            `attribution` [N, K, …input dims]
 *            `map_<reduction>` [N, K, …spatial] one map per image and target
 *            `act:<tensor>` [N, …] / `grad:<tensor>` [N, K, …] for each tap: forward value and
 *            backward signal at that tensor
 */
import { BacklightError, UnsupportedOpError } from '../errors.js';
import { NameScope, cloneGraph, producers, removeDeadNodes, shapeOf, type Graph, type Node, type ValueInfo } from '../ir/graph.js';
import { asFloat32, int64 } from '../ir/tensor.js';
import { CANONICALIZED_OPS, RULES } from '../rules/index.js';
import { CPU_LOWERING, type Lowering, type RuleChoice, type RuleContext } from '../rules/types.js';
import { Emitter } from '../ir/emitter.js';
import { emitMetaStep } from './meta.js';
import { gatesBelowPools } from './poolGates.js';

export type Reduction = 'maxabs' | 'sum' | 'l2';
export const REDUCTIONS: readonly Reduction[] = ['maxabs', 'sum', 'l2'];

export interface CompileOptions {
  /** The method's rule table: what to do at each node. */
  rules: (node: Node, graph: Graph) => RuleChoice;
  /** Stabilizer of LRP denominators (default 1e-6). */
  stabilizer?: number;
  /** Op choices for the runtime that will run the graph (see Lowering); default CPU_LOWERING. */
  lowering?: Lowering;
  /** Seed value: 1 (default), or the logit of the target (LRP's convention: R = S_j at the output). */
  seedScale?: 'one' | 'logit';
  /**
   * Contrastive LRP (Gu et al. §4): also propagate a dual concept for every seed, in the same
   * backward batch, and output max(0, R − R_dual). 'clrp1': the dual seeds all other classes with
   * S_j/(C − 1); 'clrp2': the dual goes through the last linear layer with its weights negated.
   * `normalize` divides R and R_dual by their sums before subtracting (the authors' code).
   */
  contrastive?: { kind: 'clrp1' | 'clrp2'; normalize?: boolean };
  /**
   * Meta-saliency (Rebuffi et al.): explain the network after one SGD step of this learning rate
   * on the cross-entropy of the target (see meta.ts). One image and one target per run.
   */
  meta?: { learningRate: number };
  /**
   * Seeds per image: `top` one-hot seeds on the highest logits, chosen in the graph, followed by
   * `given` seeds fed as the `seed` input.
   */
  seeds: { top: number; given: number };
  /** Multiply the input-space signal by the input (gradient × input). */
  timesInput?: boolean;
  reductions?: readonly Reduction[];
  /** Forward tensor names whose activation and backward signal become outputs. */
  taps?: readonly string[];
}

export interface CompiledGraph {
  graph: Graph;
  k: number;
  batch: number;
  classes: number;
  inputShape: number[];
}

export const INPUT = 'input';
export const SEED = 'seed';

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

/**
 * max(0, R − R_dual) from a [2·rows, …] signal holding R then R_dual; with `normalize`, each map is
 * first divided by its sum over all but the batch axis.
 */
function contrast(emit: Emitter, both: string, rows: number, inputShape: number[], normalize: boolean): string {
  let [r, dual] = emit.ops('Split', [both, emit.int64s([rows, rows])], { axis: 0 }, 2, 'splitContrast');
  if (normalize) {
    const axes = emit.int64s(inputShape.slice(1).map((_, i) => i + 1));
    // A map summing to zero cannot be normalized: it counts as zero (Where drops the 0/0).
    const byOwnSum = (x: string): string => {
      const total = emit.op('ReduceSum', [x, axes], { keepdims: 1 });
      const zero = emit.op('Equal', [total, emit.scalar(0)]);
      return emit.op('Where', [zero, emit.scalar(0), emit.op('Div', [x, total])], {}, 'sumNormalized');
    };
    r = byOwnSum(r!);
    dual = byOwnSum(dual!);
  }
  return emit.op('Relu', [emit.op('Sub', [r!, dual!])], {}, 'contrast');
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

export function compile(canonical: Graph, opts: CompileOptions): CompiledGraph {
  const g = cloneGraph(canonical);
  const lowering = opts.lowering ?? CPU_LOWERING;
  const k = opts.seeds.top + opts.seeds.given;
  if (![opts.seeds.top, opts.seeds.given].every((x) => Number.isInteger(x) && x >= 0) || k < 1) {
    throw new BacklightError(`the number of targets must be a positive integer (got ${opts.seeds.top} + ${opts.seeds.given})`, 'usage');
  }
  const modelInput = g.inputs[0]!;
  const inputShape = shapeOf(g, modelInput.name);
  let logitsName = g.outputs[0]!.name;
  const logitsShape = shapeOf(g, logitsName);
  if (logitsShape.length !== 2) {
    throw new BacklightError(`the model output '${logitsName}' has shape [${logitsShape}]; Backlight explains classifiers whose output is [batch, classes]`);
  }
  const [batch, classes] = logitsShape as [number, number];
  if (opts.seeds.top > classes) throw new BacklightError(`cannot explain the top ${opts.seeds.top} classes of a model with ${classes} classes`, 'usage');

  const scope = new NameScope(g);
  const reserved = [INPUT, SEED, 'logits', 'targets', 'attribution', ...REDUCTIONS.map((r) => `map_${r}`)];
  // Every compiled graph has the same interface names: move model tensors that use them aside.
  for (const name of reserved) {
    if (name === modelInput.name || (name === 'logits' && logitsName === 'logits')) continue;
    if (g.values.has(name) || g.initializers.has(name)) renameTensor(g, name, scope.fresh(name));
  }
  for (const name of reserved) scope.reserve(name);
  logitsName = g.outputs[0]!.name;
  const emit = new Emitter(scope, g.initializers);
  renameTensor(g, modelInput.name, INPUT);
  const inputAlias = INPUT;

  // Which tensors depend on the input: only they carry signals.
  const live = new Set<string>([inputAlias]);
  for (const n of g.nodes) if (n.inputs.some((i) => live.has(i))) for (const o of n.outputs) if (o) live.add(o);

  const inputs: ValueInfo[] = [{ name: inputAlias, dtype: 'float32', shape: inputShape }];
  const outputs: ValueInfo[] = [{ name: 'logits', dtype: 'float32', shape: logitsShape }];
  if (logitsName !== 'logits') emit.nodes.push({ name: 'logits_out', op: 'Identity', domain: '', inputs: [logitsName], outputs: ['logits'], attrs: {} });

  // Seeds [N, K, classes]: the `top` highest logits (one-hot, chosen in-graph) then the given
  // ones; K-major inside: → [K, N, classes] → [K·N, classes].
  const parts: string[] = [];
  if (opts.seeds.top > 0) {
    const [, top] = emit.ops('TopK', [logitsName, emit.int64s([opts.seeds.top])], { axis: 1, largest: 1, sorted: 1 }, 2, 'topk');
    emit.nodes.push({ name: 'targets_out', op: 'Identity', domain: '', inputs: [top!], outputs: ['targets'], attrs: {} });
    outputs.push({ name: 'targets', dtype: 'int64', shape: [batch, opts.seeds.top] });
    const classIds = emit.constant(int64([classes], Array.from({ length: classes }, (_, i) => i)), 'classIds');
    const onehot = emit.op('Equal', [emit.op('Unsqueeze', [top!, emit.int64s([2])]), classIds]);
    parts.push(emit.op('Cast', [onehot], { to: 1 }, 'topSeed'));
  }
  if (opts.seeds.given > 0) {
    inputs.push({ name: SEED, dtype: 'float32', shape: [batch, opts.seeds.given, classes] });
    parts.push(SEED);
  }
  const seedsPerImage = parts.length === 1 ? parts[0]! : emit.op('Concat', parts, { axis: 1 });
  const kMajorSeeds = k > 1 && batch > 1 ? emit.op('Transpose', [seedsPerImage], { perm: [1, 0, 2] }) : seedsPerImage;
  let seed = emit.reshape(kMajorSeeds, [k * batch, classes], 'seed');
  if (opts.seedScale === 'logit') {
    // [K·N, classes] ⊙ logits [N, classes], through the [K, N, classes] view when N > 1.
    const scaled = emit.op('Mul', [batch > 1 ? emit.reshape(seed, [k, batch, classes]) : seed, logitsName], {}, 'seedTimesLogit');
    seed = batch > 1 ? emit.reshape(scaled, [k * batch, classes]) : scaled;
  }

  // Meta-saliency: the backward pass below explains the updated network's forward pass.
  let walkNodes = g.nodes;
  let explained = logitsName;
  if (opts.meta) {
    if (k !== 1 || opts.contrastive) throw new BacklightError('meta-saliency explains one target per run (and is not contrastive)', 'usage');
    const step = emitMetaStep(emit, g, g.nodes, inputAlias, logitsName, seedsPerImage, opts.meta.learningRate, lowering);
    walkNodes = step.nodes;
    explained = step.logits;
    live.clear();
    live.add(inputAlias);
    for (const n of walkNodes) if (n.inputs.some((i) => live.has(i))) for (const o of n.outputs) if (o) live.add(o);
  }

  // Contrastive: the K dual seeds follow the K seeds, so the backward batch is 2K (K-major).
  const contrastive = opts.contrastive;
  const kb = contrastive ? 2 * k : k;
  if (contrastive) {
    let dual = seed;
    if (contrastive.kind === 'clrp1') {
      // (Σ r − r)/(C − 1): a seed v·e_j becomes v/(C − 1) on every other class.
      const total = emit.op('ReduceSum', [seed, emit.int64s([1])], { keepdims: 1 });
      dual = emit.op('Div', [emit.op('Sub', [total, seed]), emit.scalar(classes - 1)], {}, 'dualSeed');
    }
    seed = emit.op('Concat', [seed, dual], { axis: 0 }, 'seedAndDual');
  }
  const dualWeights = new Map<string, string>();
  /** The linear layer that computes the logits, looking back through reshapes (CLRP2's dual). */
  const lastLinear = (): Node => {
    const prod = producers(g);
    let node = prod.get(logitsName);
    while (node && ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity'].includes(node.op)) node = prod.get(node.inputs[0]!);
    if (!node || !['Conv', 'Gemm', 'MatMul'].includes(node.op) || !g.initializers.has(node.inputs[1]!)) {
      throw new BacklightError(`CLRP2 negates the weights of the layer that computes the logits, but '${logitsName}' does not come from a Conv/Gemm/MatMul with constant weights`);
    }
    return node;
  };
  /** The last layer's input signals with negated weights for the dual half (CLRP2). */
  const splitLastLayer = (node: Node, ctx: RuleContext, rule: (c: RuleContext) => (string | undefined)[]): (string | undefined)[] => {
    const half = k * batch;
    const [normal, dual] = emit.ops('Split', [ctx.signals[0]!, emit.int64s([half, half])], { axis: 0 }, 2, 'splitDual');
    const wName = node.inputs[1]!;
    const w = g.initializers.get(wName);
    if (!w) throw new UnsupportedOpError(node.name, node.op, 'CLRP2 needs the last layer to have constant weights');
    let negName = dualWeights.get(wName);
    if (!negName) {
      negName = emit.constant({ dtype: 'float32', dims: [...w.dims], data: Float32Array.from(asFloat32(w), (v) => -v) }, `${node.name}/w_negated`);
      dualWeights.set(wName, negName);
    }
    const negNode: Node = { ...node, inputs: node.inputs.map((n, i) => (i === 1 ? negName! : n)) };
    const a = rule({ ...ctx, k, signals: [normal] });
    const b = rule({ ...ctx, node: negNode, k, signals: [dual] });
    return a.map((x, i) => (x && b[i] ? emit.op('Concat', [x, b[i]!], { axis: 0 }, 'joinDual') : undefined));
  };

  // Backward walk in reverse topological order; contributions meeting at a tensor are summed.
  const contributions = new Map<string, string[]>([[explained, [seed]]]);
  const summed = new Map<string, string>();
  const signalOf = (t: string): string | undefined => {
    const done = summed.get(t);
    if (done) return done;
    const parts = contributions.get(t);
    if (!parts || parts.length === 0) return undefined;
    const s = parts.length === 1 ? parts[0]! : emit.op('Sum', parts, {}, 'meet');
    summed.set(t, s);
    return s;
  };

  /** Which inputs of a node depend on the model input, and so need a signal. */
  const needsOf = (node: Node): boolean[] => node.inputs.map((n) => n !== '' && live.has(n));
  /** The rule the method picks for a node, and its context for the given output signals. */
  const ruleFor = (node: Node, signals: (string | undefined)[]): { ctx: RuleContext; rule: (c: RuleContext) => (string | undefined)[] } => {
    const rules = RULES.get(node.op);
    if (!rules) throw new UnsupportedOpError(node.name, node.op, `no backward rule for op '${node.op}' on an input-dependent tensor`);
    const choice = opts.rules(node, g);
    const ctx: RuleContext = {
      graph: g,
      node,
      emit,
      k: kb,
      signals,
      needs: needsOf(node),
      family: choice.family,
      linear: choice.linear,
      stabilizer: opts.stabilizer ?? 1e-6,
      lowering,
      shape: (name) => shapeOf(g, name),
      constant: (name) => g.initializers.get(name),
    };
    return { ctx, rule: rules[choice.family] ?? rules.gradient };
  };

  /** Adds a signal reaching tensor t; signals that meet there are summed by signalOf. */
  const contribute = (t: string, s: string): void => {
    let list = contributions.get(t);
    if (!list) contributions.set(t, (list = []));
    list.push(s);
  };

  // Rectifiers whose gate runs on the pooled signal, keyed by their MaxPool (see poolGates.ts).
  const gateBelow = opts.meta ? new Map<Node, Node>() : gatesBelowPools(g, walkNodes, opts.rules, new Set(opts.taps ?? []));
  const gatesMoved = new Set(gateBelow.values());

  for (let i = walkNodes.length - 1; i >= 0; i--) {
    const node = walkNodes[i]!;
    let signals = node.outputs.map((o) => (o ? signalOf(o) : undefined));
    if (signals.every((s) => s === undefined)) continue;
    const needs = needsOf(node);
    if (!needs.some(Boolean)) continue;
    if (gatesMoved.has(node)) {
      // Its gate already ran below the pool that reads it: the signal passes unchanged.
      contribute(node.inputs[0]!, signals[0]!);
      continue;
    }
    const gate = gateBelow.get(node);
    if (gate && signals[0]) {
      // The rectifier's rule on the pooled signal, with the pool's output standing for its own.
      const atPool = ruleFor({ ...gate, outputs: [node.outputs[0]!] }, [signals[0]]);
      signals = [atPool.rule(atPool.ctx)[0], ...signals.slice(1)];
    }
    const { ctx, rule } = ruleFor(node, signals);
    const back = contrastive?.kind === 'clrp2' && node === lastLinear() ? splitLastLayer(node, ctx, rule) : rule(ctx);
    back.forEach((s, j) => {
      const target = node.inputs[j];
      if (s && target && needs[j]) contribute(target, s);
    });
  }

  let attribution = signalOf(inputAlias) ?? emit.op('ConstantOfShape', [emit.int64s([kb * batch, ...inputShape.slice(1)])]);
  if (contrastive) attribution = contrast(emit, attribution, k * batch, inputShape, contrastive.normalize ?? false);
  if (opts.timesInput) {
    // The input [N, …] broadcasts against the K-major signal viewed as [K, N, …].
    const viewed = k > 1 && batch > 1 ? emit.reshape(attribution, [k, ...inputShape]) : attribution;
    const product = emit.op('Mul', [viewed, inputAlias], {}, 'timesInput');
    attribution = viewed === attribution ? product : emit.reshape(product, [k * batch, ...inputShape.slice(1)]);
  }
  // Back from K-major to [N, K, …]: a transpose only when both K and N exceed 1.
  const perImage = (signal: string, shape: number[]): string => {
    const n = shape[0]!;
    const rest = shape.slice(1);
    if (k === 1 || n === 1) return emit.reshape(signal, [n, k, ...rest]);
    const t = emit.op('Transpose', [emit.reshape(signal, [k, n, ...rest])], { perm: [1, 0, ...rest.map((_, i) => i + 2)] });
    return emit.reshape(t, [n, k, ...rest]);
  };
  const attrShape = [batch, k, ...inputShape.slice(1)];
  emit.nodes.push({ name: 'attribution_out', op: 'Identity', domain: '', inputs: [perImage(attribution, inputShape)], outputs: ['attribution'], attrs: {} });
  outputs.push({ name: 'attribution', dtype: 'float32', shape: attrShape });

  // One map per image and target: reduce over the channel axis (axis 2 of [N, K, C, …]).
  const mapShape = [batch, k, ...inputShape.slice(2)];
  for (const r of opts.reductions ?? []) {
    const reduced =
      r === 'maxabs' ? emit.op('ReduceMax', [emit.op('Abs', ['attribution'])], { axes: [2], keepdims: 0 }) :
      r === 'sum' ? emit.op('ReduceSum', ['attribution', emit.int64s([2])], { keepdims: 0 }) :
      emit.op('ReduceL2', ['attribution'], { axes: [2], keepdims: 0 });
    emit.nodes.push({ name: `map_${r}_out`, op: 'Identity', domain: '', inputs: [reduced], outputs: [`map_${r}`], attrs: {} });
    outputs.push({ name: `map_${r}`, dtype: 'float32', shape: mapShape });
  }

  for (const tap of opts.taps ?? []) {
    const shape = g.values.get(tap)?.shape as number[] | undefined;
    if (!shape || !live.has(tap)) throw new BacklightError(`no input-dependent tensor named '${tap}' in the model (layer taps name tensors, e.g. a Relu output)`, 'usage');
    let grad = signalOf(tap) ?? emit.op('ConstantOfShape', [emit.int64s([kb * shape[0]!, ...shape.slice(1)])]);
    // With a contrastive method, the tap shows the signal of the explained concept (the first half).
    if (contrastive) grad = emit.op('Slice', [grad, emit.int64s([0]), emit.int64s([k * shape[0]!]), emit.int64s([0])]);
    emit.nodes.push({ name: `act:${tap}_out`, op: 'Identity', domain: '', inputs: [tap], outputs: [`act:${tap}`], attrs: {} });
    emit.nodes.push({ name: `grad:${tap}_out`, op: 'Identity', domain: '', inputs: [perImage(grad, shape)], outputs: [`grad:${tap}`], attrs: {} });
    outputs.push({ name: `act:${tap}`, dtype: 'float32', shape });
    outputs.push({ name: `grad:${tap}`, dtype: 'float32', shape: [shape[0]!, k, ...shape.slice(1)] });
  }

  g.nodes = [...g.nodes, ...emit.nodes];
  g.inputs = inputs;
  g.outputs = outputs;
  // Rules may emit values that a later rule regroups away (Emitter.products).
  removeDeadNodes(g);
  return { graph: g, k, batch, classes, inputShape };
}
