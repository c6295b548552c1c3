/**
 * One backward pass of a method, from the seeds to every input-dependent tensor: the seed scaling,
 * meta-saliency's updated network, CLRP's dual seeds and the walk with the method's rule table.
 * A graph can hold several passes over the same forward pass and seeds (Guided Grad-CAM).
 */
import { BacklightError } from '../errors.js';
import { INPUT, type Compilation } from './compilation.js';
import { contrast, negatedLastLayer, withDualSeeds, type Contrastive } from './contrastive.js';
import type { Emitter } from '../ir/emitter.js';
import { emitMetaStep } from './meta.js';
import { scaleSeed, type SeedScale, type Seeds } from './seeds.js';
import { walkBackward, type RuleTable, type Signals } from './walk.js';

/** What a method asks of its backward pass. */
export interface BackwardOptions {
  /** The method's rule table: what to do at each node. */
  rules: RuleTable;
  /** Stabilizer of LRP denominators (default 1e-6). */
  stabilizer?: number;
  /** Seed value: 1 (default), or the logit of the target (LRP's convention: R = S_j at the output). */
  seedScale?: SeedScale;
  /** Contrastive LRP: a dual concept per seed, and max(0, R − R_dual) as the attribution. */
  contrastive?: Contrastive;
  /**
   * Meta-saliency (Rebuffi et al.): explain the network after one SGD step of this learning rate
   * on the cross-entropy of the target (see meta.ts). One image and one target per run.
   */
  meta?: { learningRate: number };
  /** Multiply the input-space signal by the input (gradient × input). */
  timesInput?: boolean;
}

export interface BackwardPass {
  readonly options: BackwardOptions;
  readonly signals: Signals;
  /** The emitter that holds the pass's nodes. */
  readonly emit: Emitter;
}

/**
 * Emits a backward pass. `read` names the tensors whose signals are read afterwards (taps,
 * layers); `emit` defaults to the main emitter.
 */
export function backwardPass(c: Compilation, seeds: Seeds, o: BackwardOptions, read: readonly string[], emit: Emitter = c.emit): BackwardPass {
  let seed = scaleSeed(c, seeds.kMajor, o.seedScale, emit);
  let nodes = c.graph.nodes;
  let from = c.logits;
  if (o.meta) {
    if (c.k !== 1 || o.contrastive) throw new BacklightError('meta-saliency explains one target per run (and is not contrastive)', 'usage');
    // The walk below explains the updated network's forward pass.
    const step = emitMetaStep(emit, c.graph, c.graph.nodes, INPUT, c.logits, seeds.perImage, o.meta.learningRate, c.lowering);
    nodes = step.nodes;
    from = step.logits;
  }
  if (o.contrastive) seed = withDualSeeds(c, seed, o.contrastive.kind, emit);
  const signals = walkBackward(c, {
    nodes,
    from,
    seed,
    rules: o.rules,
    k: o.contrastive ? 2 * c.k : c.k,
    stabilizer: o.stabilizer,
    movableGatesExcept: o.meta ? undefined : read,
    override: o.contrastive?.kind === 'clrp2' ? negatedLastLayer(c, emit) : undefined,
    emit,
  });
  return { options: o, signals, emit };
}

/**
 * The pass's attribution in input space, K-major [K·N, …input]: the signal at the input (zero
 * when none reaches it), contrasted with its dual, times the input when the method asks.
 */
export function inputAttribution(c: Compilation, pass: BackwardPass): string {
  const { emit, options: o } = pass;
  const { k, batch, inputShape } = c;
  const rows = (o.contrastive ? 2 : 1) * k * batch;
  let attribution = pass.signals.at(INPUT) ?? emit.op('ConstantOfShape', [emit.int64s([rows, ...inputShape.slice(1)])]);
  if (o.contrastive) attribution = contrast(emit, attribution, k * batch, inputShape, o.contrastive.normalize ?? false);
  if (o.timesInput) {
    // The input [N, …] broadcasts against the K-major signal viewed as [K, N, …].
    const viewed = k > 1 && batch > 1 ? emit.reshape(attribution, [k, ...inputShape]) : attribution;
    const product = emit.op('Mul', [viewed, INPUT], {}, 'timesInput');
    attribution = viewed === attribution ? product : emit.reshape(product, [k * batch, ...inputShape.slice(1)]);
  }
  return attribution;
}
