/**
 * What a method is, as data: one `MethodSpec` per method, registered in registry.ts. The CLI's
 * flags and help, eval's `--method`, the web page's controls and labels all read these.
 */
import type { Aggregation, Upsampling } from '../compile/aggregate.js';
import type { Graph, Node } from '../ir/graph.js';
import type { RuleChoice } from '../rules/types.js';
import type { MethodParams, ParamSpec } from './params.js';

/** Where the web page and help texts list a method. */
export type MethodGroup = 'gradient' | 'relevance' | 'layer-map';

interface MethodSpecBase<N extends string> {
  name: N;
  /** Display name for figures. */
  label: string;
  /** One line for help texts. */
  summary: string;
  group: MethodGroup;
  /** Whether the raw attribution has meaningful signs (can be drawn with a diverging colormap). */
  signed: boolean;
  /**
   * How maps are drawn by default: gradient-family maps as max |·| magnitudes (Simonyan et al.),
   * relevance maps signed, centered at 0 (LRP convention); layer maps as magnitudes.
   */
  display: 'magnitude' | 'signed';
  /** The parameters the method reads (their flags are the CLI's). */
  params: readonly ParamSpec[];
}

/** A backward method: a rule table run from the logits to the input. */
export interface BackwardMethodSpec<N extends string = string> extends MethodSpecBase<N> {
  kind: 'backward';
  /** The rule choice at each node, given the method's parameters. */
  rules(params: MethodParams): (node: Node, graph: Graph) => RuleChoice;
  /** The seed on the logits: 1, or the target's logit (LRP). */
  seedScale: 'one' | 'logit';
  /** Multiply the input-space signal by the input. */
  timesInput: boolean;
  /** Contrastive methods: the dual concept propagated with the same rules (see compile/contrastive.ts). */
  contrastive?: 'clrp1' | 'clrp2';
}

/** A layer-map method of Rebuffi et al.'s framework: an aggregation at a layer (see framework.ts). */
export interface LayerMapMethodSpec<N extends string = string> extends MethodSpecBase<N> {
  kind: 'layer-map';
  /** The aggregation whose map becomes the attribution. */
  aggregation: Aggregation;
  /** Default extraction method (any backward method can be asked for instead). */
  extraction: string;
  /** Default upsampling of the layer map to the input size. */
  upsample: Upsampling;
  /** Default layer: the last spatial layer ('spatial', see `defaultLayer`) or the last Conv output ('conv'). */
  layer: 'spatial' | 'conv';
  /** The attribution is Guided Backprop ⊙ the upsampled map (Guided Grad-CAM). */
  guided: boolean;
}

export type MethodSpec<N extends string = string> = BackwardMethodSpec<N> | LayerMapMethodSpec<N>;

/** Keeps a spec's literal name in its type (`backward({ name: 'gradient', … })`). */
export const backward = <N extends string>(spec: Omit<BackwardMethodSpec<N>, 'kind'>): BackwardMethodSpec<N> => ({ kind: 'backward', ...spec });
export const layerMap = <N extends string>(spec: Omit<LayerMapMethodSpec<N>, 'kind' | 'display'>): LayerMapMethodSpec<N> => ({ kind: 'layer-map', display: 'magnitude', ...spec });
