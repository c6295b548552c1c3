/**
 * Method parameters of `backlight explain`: `--epsilon`, `--alpha`/`--beta`, `--composite`, `--box`,
 * `--normalize` and `--seed`, parsed and checked against the methods asked for, then resolved per
 * method into the library's `MethodParams` (each method gets only the parameters it reads, with
 * the defaults filled in, so the summary says exactly what was used).
 *
 * The zB rule (first layer of the `gu2018` and `epsilon-gamma-box` composites) needs the bounds of
 * the normalized input, per channel. Without `--box` they come from the preprocessing:
 * `pixelBounds` of the resolved preset (black and white pixels after (x/255 − mean)/std). A .npy
 * input has a preprocessing only when a preprocessing option was given; without one, a method
 * that uses zB is a usage error that asks for `--box` or `--preset`.
 */
import { pixelBounds, type Preprocess } from '../io/preprocess.js';
import { COMPOSITE_NAMES, namedComposite, type CompositeName, type PixelBox } from '../methods/composites.js';
import type { ExplainMethodName } from '../methods/explainer.js';
import { isFrameworkMethod } from '../methods/framework.js';
import { GRADIENT_FAMILY, METHODS, type MethodName, type MethodParams } from '../methods/methods.js';
import type { LinearRule } from '../rules/types.js';
import { parseNumber, usage } from './options.js';

/** The flags as commander parses them. */
export interface MethodParamCliOptions {
  epsilon?: string;
  alpha?: string;
  beta?: string;
  composite?: string;
  box?: string;
  normalize?: boolean;
  seed?: string;
  /** `--meta-lr`: meta-saliency learning rate (gradient-family methods). */
  metaLr?: string;
}

export const DEFAULT_EPSILON = 1e-6;
export const DEFAULT_COMPOSITE: CompositeName = 'gu2018';

/** Methods whose rules come from a composite (`--composite`). */
export const COMPOSITE_METHODS: readonly MethodName[] = ['lrp', 'clrp1', 'clrp2'];

/** Where the zB bounds of a run come from. */
export type BoxSource = 'box' | 'preprocessing' | null;

/** The method parameters asked for, checked as far as possible without the model. */
export interface ParamRequest {
  epsilon: number;
  /** Given explicitly (else the default). */
  epsilonGiven: boolean;
  alpha: number;
  beta: number;
  composite: CompositeName;
  /** `--box`, as given (one value for all channels, or one per channel). */
  box: PixelBox | null;
  normalize: boolean;
  seed?: 'one' | 'logit';
  /** The methods that use the zB rule (they need bounds). */
  zbMethods: MethodName[];
  /** `--meta-lr`: meta-saliency learning rate of the gradient-family methods. */
  metaLearningRate?: number;
}

/** `LOW,HIGH` (all channels) or `l1,l2,l3:h1,h2,h3` (per channel). */
export function parseBox(text: string): PixelBox {
  const bad = (why: string): never => {
    throw usage(`--box '${text}' ${why}: give LOW,HIGH for all channels (e.g. --box=-2.12,2.64) or low1,low2,low3:high1,high2,high3 per channel`);
  };
  const list = (part: string): number[] => {
    const items = part.split(',').map((s) => s.trim());
    const values = items.map(Number);
    if (items.some((s) => s === '') || values.some((v) => !Number.isFinite(v))) bad('is not a list of numbers');
    return values;
  };
  let low: number[];
  let high: number[];
  const halves = text.split(':');
  if (halves.length === 1) {
    const v = list(text);
    if (v.length !== 2) bad(`has ${v.length} number${v.length === 1 ? '' : 's'}`);
    low = [v[0]!];
    high = [v[1]!];
  } else if (halves.length === 2) {
    low = list(halves[0]!);
    high = list(halves[1]!);
    if (low.length !== high.length) bad(`has ${low.length} low and ${high.length} high bounds`);
  } else return bad('has more than one colon');
  const wrong = low.findIndex((l, i) => !(l < high[i]!));
  if (wrong >= 0) bad(`has low ${low[wrong]} ≥ high ${high[wrong]}${low.length > 1 ? ` for channel ${wrong}` : ''}`);
  return { low, high };
}

/** The rules of a built-in composite (with placeholder bounds, to see which rules it uses). */
function compositeRuleKinds(name: CompositeName): Set<LinearRule['rule']> {
  const c = namedComposite(name, DEFAULT_EPSILON, { low: [0], high: [1] });
  return new Set([c.first, c.conv, c.dense].filter((r): r is LinearRule => r !== undefined).map((r) => r.rule));
}

/** Whether `method` with `composite` uses the zB rule (needs pixel bounds). */
export function usesZBox(method: ExplainMethodName, composite: CompositeName): boolean {
  return isComposite(method) && compositeRuleKinds(composite).has('zbox');
}

/** Whether `method` with `composite` reads ε. */
function readsEpsilon(method: ExplainMethodName, composite: CompositeName): boolean {
  return method === 'lrp-epsilon' || (isComposite(method) && compositeRuleKinds(composite).has('epsilon'));
}

const isComposite = (m: ExplainMethodName): m is MethodName => (COMPOSITE_METHODS as readonly string[]).includes(m);
const isContrastive = (m: ExplainMethodName): boolean => !isFrameworkMethod(m) && METHODS[m].contrastive !== undefined;
/** Methods that read `--meta-lr` (meta-saliency). */
export const readsMetaLr = (m: ExplainMethodName): boolean => (GRADIENT_FAMILY as readonly string[]).includes(m);

/** Checks that a flag is read by one of the methods, so that no flag is silently ignored. */
function needReader(flag: string, given: boolean, methods: readonly ExplainMethodName[], reads: (m: ExplainMethodName) => boolean, readers: string): void {
  if (given && !methods.some(reads)) throw usage(`${flag} is used by ${readers}, and none of the methods given (${methods.join(', ')}) reads it`);
}

/**
 * Parses the parameter flags for `methods`. Of α and β (`lrp-alphabeta`), one may be left out: it
 * follows from α − β = 1.
 */
export function parseMethodParams(opts: MethodParamCliOptions, methods: readonly ExplainMethodName[]): ParamRequest {
  const epsilon = opts.epsilon === undefined ? DEFAULT_EPSILON : parseNumber('--epsilon', opts.epsilon, (v) => v > 0, 'greater than 0, e.g. 1e-6');

  let composite = DEFAULT_COMPOSITE;
  if (opts.composite !== undefined) {
    const name = opts.composite.trim();
    if (!(COMPOSITE_NAMES as readonly string[]).includes(name)) throw usage(`unknown composite '${opts.composite}' (available: ${COMPOSITE_NAMES.join(', ')})`);
    composite = name as CompositeName;
  }

  const alphaBeta = methods.includes('lrp-alphabeta');
  let alpha = 1;
  let beta = 0;
  if (alphaBeta && (opts.alpha !== undefined || opts.beta !== undefined)) {
    const a = opts.alpha === undefined ? undefined : parseNumber('--alpha', opts.alpha, () => true, '');
    const b = opts.beta === undefined ? undefined : parseNumber('--beta', opts.beta, () => true, '');
    alpha = a ?? b! + 1;
    beta = b ?? a! - 1;
    if (!(alpha >= 0 && beta >= 0 && Math.abs(alpha - beta - 1) <= 1e-9)) {
      throw usage(`lrp-alphabeta needs α ≥ 0, β ≥ 0 and α − β = 1, got α = ${alpha}, β = ${beta} (e.g. --alpha 2 --beta 1, or --alpha 1 --beta 0)`);
    }
  }

  let seed: 'one' | 'logit' | undefined;
  if (opts.seed !== undefined) {
    const s = opts.seed.trim().toLowerCase();
    if (s !== 'one' && s !== 'logit') throw usage(`--seed '${opts.seed}' must be 'one' (seed 1 on the target logit) or 'logit' (the target's logit, LRP's default)`);
    seed = s;
  }

  const box = opts.box === undefined ? null : parseBox(opts.box);
  const normalize = opts.normalize === true;

  needReader('--epsilon', opts.epsilon !== undefined, methods, (m) => readsEpsilon(m, composite), `lrp-epsilon and lrp/clrp1/clrp2 with an epsilon-* composite (--composite ${composite} has no ε rule)`);
  needReader('--alpha', opts.alpha !== undefined, methods, (m) => m === 'lrp-alphabeta', 'lrp-alphabeta (the overlay opacity is --opacity)');
  needReader('--beta', opts.beta !== undefined, methods, (m) => m === 'lrp-alphabeta', 'lrp-alphabeta');
  needReader('--composite', opts.composite !== undefined, methods, isComposite, COMPOSITE_METHODS.join(', '));
  needReader('--box', box !== null, methods, (m) => usesZBox(m, composite), `methods with the zB rule (lrp, clrp1, clrp2 with the gu2018 or epsilon-gamma-box composite; --composite is ${composite})`);
  needReader('--normalize', normalize, methods, isContrastive, 'the contrastive methods (clrp1, clrp2, contrastive-excitation)');
  const metaLearningRate = opts.metaLr === undefined ? undefined : parseNumber('--meta-lr', opts.metaLr, (v) => v > 0, 'greater than 0, e.g. 1e-4');
  needReader('--meta-lr', metaLearningRate !== undefined, methods, readsMetaLr, `the gradient-family methods (${GRADIENT_FAMILY.join(', ')})`);

  return {
    epsilon, epsilonGiven: opts.epsilon !== undefined, alpha, beta, composite, box, normalize, seed,
    zbMethods: methods.filter((m): m is MethodName => usesZBox(m, composite)),
    ...(metaLearningRate !== undefined ? { metaLearningRate } : {}),
  };
}

/**
 * Checks, before the model is read, that the zB bounds can be found: from `--box`, or from a
 * preprocessing (always there for image files; for .npy inputs only with a preprocessing option).
 */
export function checkBoxSource(request: ParamRequest, inputKind: 'npy' | 'image', explicitPreprocess: boolean): BoxSource {
  if (request.zbMethods.length === 0) return null;
  if (request.box) return 'box';
  if (inputKind === 'image' || explicitPreprocess) return 'preprocessing';
  throw usage(
    `${request.zbMethods.join(', ')} (composite ${request.composite}) use${request.zbMethods.length === 1 ? 's' : ''} the zB rule, which needs the pixel bounds of the normalized input, and a .npy input does not tell them: pass --box LOW,HIGH (or low1,low2,low3:high1,high2,high3 per channel), or --preset (e.g. --preset imagenet) to take them from the preprocessing`,
  );
}

/** The zB bounds: `--box`, else the preprocessing's pixel bounds; null when no method uses zB. */
export function resolveBox(request: ParamRequest, preprocess: Preprocess | null, channels: number | null): PixelBox | null {
  if (request.zbMethods.length === 0) return null;
  let box: PixelBox;
  if (request.box) box = request.box;
  else if (preprocess) box = pixelBounds(preprocess);
  else throw new Error('resolveBox: no --box and no preprocessing (checkBoxSource should have refused)');
  if (channels !== null && box.low.length !== 1 && box.low.length !== channels) {
    throw usage(`--box has ${box.low.length} bounds per side, but the input has ${channels} channel${channels === 1 ? '' : 's'}: give ${channels === 1 ? 'LOW,HIGH' : `LOW,HIGH or ${channels} values per side`}`);
  }
  return { low: [...box.low], high: [...box.high] };
}

/** The parameters `method` reads, defaults filled in (what is passed to the library and reported). */
export function paramsFor(method: ExplainMethodName, request: ParamRequest, box: PixelBox | null): MethodParams {
  const p: MethodParams = {};
  if (method === 'lrp-epsilon') p.epsilon = request.epsilon;
  if (method === 'lrp-alphabeta') {
    p.alpha = request.alpha;
    p.beta = request.beta;
  }
  if (isComposite(method)) {
    p.composite = request.composite;
    if (readsEpsilon(method, request.composite)) p.epsilon = request.epsilon;
    if (usesZBox(method, request.composite)) {
      if (!box) throw new Error(`paramsFor: ${method} needs zB bounds`);
      p.box = { low: [...box.low], high: [...box.high] };
    }
  }
  if (isContrastive(method) && request.normalize) p.normalize = true;
  if (request.seed !== undefined) p.seed = request.seed;
  if (request.metaLearningRate !== undefined && readsMetaLr(method)) p.metaLearningRate = request.metaLearningRate;
  return p;
}
