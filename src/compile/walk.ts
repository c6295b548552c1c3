/**
 * The backward walk: visits forward nodes in reverse topological order and applies the rule the
 * method picks for each (RULES, RuleContext), starting from a seed on one tensor. Contributions
 * that meet at a tensor are summed.
 */
import { UnsupportedOpError } from '../errors.js';
import { shapeOf, type Graph, type Node } from '../ir/graph.js';
import { RULES } from '../rules/index.js';
import type { BackwardRule, RuleChoice, RuleContext } from '../rules/types.js';
import { INPUT, type Compilation } from './compilation.js';
import type { Emitter } from '../ir/emitter.js';
import { gatesBelowPools } from './poolGates.js';

/** A method's rule table: what to do at each node. */
export type RuleTable = (node: Node, graph: Graph) => RuleChoice;

/**
 * Runs a node's rule in place of the plain call, or returns undefined to leave it (CLRP2's last
 * layer with negated weights for the dual half).
 */
export type RuleOverride = (node: Node, ctx: RuleContext, rule: BackwardRule) => (string | undefined)[] | undefined;

export interface WalkOptions {
  /** The forward nodes to walk, in topological order. */
  nodes: readonly Node[];
  /** The tensor the seed is set on (the logits) and the seed, K-major. */
  from: string;
  seed: string;
  rules: RuleTable;
  /** Seeds in the backward batch (2K with a contrastive dual). */
  k: number;
  /** Stabilizer of LRP denominators (default 1e-6). */
  stabilizer?: number;
  /**
   * Tensors whose own signal is read after the walk (taps, layers), which keep their rectifier
   * gates in place; undefined: no gate moves below its max-pooling (see poolGates.ts).
   */
  movableGatesExcept?: readonly string[];
  override?: RuleOverride;
  /** Default: the main emitter. */
  emit?: Emitter;
}

/** The signals a walk left at forward tensors. */
export interface Signals {
  /** Tensors that depend on the model input (only they carry signals). */
  readonly live: ReadonlySet<string>;
  /** The signal at a tensor (K-major), or undefined when none reached it. */
  at(tensor: string): string | undefined;
}

export function walkBackward(c: Compilation, o: WalkOptions): Signals {
  const g = c.graph;
  const emit = o.emit ?? c.emit;
  const live = new Set<string>([INPUT]);
  for (const n of o.nodes) if (n.inputs.some((i) => live.has(i))) for (const out of n.outputs) if (out) live.add(out);

  const contributions = new Map<string, string[]>([[o.from, [o.seed]]]);
  const summed = new Map<string, string>();
  const at = (t: string): string | undefined => {
    const done = summed.get(t);
    if (done) return done;
    const parts = contributions.get(t);
    if (!parts || parts.length === 0) return undefined;
    const s = parts.length === 1 ? parts[0]! : emit.op('Sum', parts, {}, 'meet');
    summed.set(t, s);
    return s;
  };
  const contribute = (t: string, s: string): void => {
    let list = contributions.get(t);
    if (!list) contributions.set(t, (list = []));
    list.push(s);
  };

  /** Which inputs of a node depend on the model input, and so need a signal. */
  const needsOf = (node: Node): boolean[] => node.inputs.map((n) => n !== '' && live.has(n));
  /** The rule the method picks for a node, and its context for the given output signals. */
  const ruleFor = (node: Node, signals: (string | undefined)[]): { ctx: RuleContext; rule: BackwardRule } => {
    const rules = RULES.get(node.op);
    if (!rules) throw new UnsupportedOpError(node.name, node.op, `no backward rule for op '${node.op}' on an input-dependent tensor`);
    const choice = o.rules(node, g);
    const ctx: RuleContext = {
      graph: g,
      node,
      emit,
      k: o.k,
      signals,
      needs: needsOf(node),
      family: choice.family,
      linear: choice.linear,
      stabilizer: o.stabilizer ?? 1e-6,
      lowering: c.lowering,
      shape: (name) => shapeOf(g, name),
      constant: (name) => g.initializers.get(name),
    };
    return { ctx, rule: rules[choice.family] ?? rules.gradient };
  };

  // Rectifiers whose gate runs on the pooled signal, keyed by their MaxPool.
  const gateBelow = o.movableGatesExcept ? gatesBelowPools(g, o.nodes, o.rules, new Set(o.movableGatesExcept)) : new Map<Node, Node>();
  const gatesMoved = new Set(gateBelow.values());

  for (let i = o.nodes.length - 1; i >= 0; i--) {
    const node = o.nodes[i]!;
    let signals = node.outputs.map((out) => (out ? at(out) : undefined));
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
    const back = o.override?.(node, ctx, rule) ?? rule(ctx);
    back.forEach((s, j) => {
      const target = node.inputs[j];
      if (s && target && needs[j]) contribute(target, s);
    });
  }
  return { live, at };
}
