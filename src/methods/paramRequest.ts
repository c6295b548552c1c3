/**
 * Method parameters as a run asks for them (`backlight explain`'s flags, the web page): `--epsilon`,
 * `--alpha`/`--beta`, `--composite`, `--box`, `--normalize`, `--seed`, `--meta-lr` and the flags
 * of any other `ParamSpec` a registered method reads, parsed and checked against the methods asked
 * for, then resolved per method into the library's `MethodParams` (each method gets only the
 * parameters it reads, with the defaults filled in, so the summary says exactly what was used).
 *
 * The zB rule (first layer of the `gu2018` and `epsilon-gamma-box` composites) needs the bounds of
 * the normalized input, per channel. Without `--box` they come from the preprocessing:
 * `pixelBounds` of the resolved preset (black and white pixels after (x/255 − mean)/std). A .npy
 * input has a preprocessing only when a preprocessing option was given; without one, a method
 * that uses zB is a usage error that asks for `--box` or `--preset`.
 */
import { BacklightError } from '../errors.js';
import { pixelBounds, type Preprocess } from '../io/preprocess.js';
import type { LinearRule } from '../rules/types.js';
import { namedComposite, type CompositeName, type PixelBox } from './composites.js';
import { GRADIENT_FAMILY, type MethodName } from './methods.js';
import { ALPHA, BETA, BOX, BUILTIN_PARAMS, COMPOSITE, DEFAULT_COMPOSITE, DEFAULT_EPSILON, EPSILON, flagKey, flagName, META_LR, NORMALIZE, SEED, type MethodParams, type ParamSpec } from './params.js';
import { methodNames, reads, registeredParams } from './registry.js';

export { DEFAULT_COMPOSITE, DEFAULT_EPSILON, parseBox } from './params.js';

const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');

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

/** Methods whose rules come from a composite (`--composite`). */
export const compositeMethods = (): string[] => methodNames().filter((m) => reads(m, COMPOSITE));

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
  /** Values given for the parameters of registered methods beyond the built-in ones, by name. */
  extra?: Record<string, unknown>;
}

/** The rules of a built-in composite (with placeholder bounds, to see which rules it uses). */
function compositeRuleKinds(name: CompositeName): Set<LinearRule['rule']> {
  const c = namedComposite(name, DEFAULT_EPSILON, { low: [0], high: [1] });
  return new Set([c.first, c.conv, c.dense].filter((r): r is LinearRule => r !== undefined).map((r) => r.rule));
}

/** Whether `method` with `composite` uses the zB rule (needs pixel bounds). */
export function usesZBox(method: string, composite: CompositeName): boolean {
  return isComposite(method) && reads(method, BOX) && compositeRuleKinds(composite).has('zbox');
}

/** Whether `method` with `composite` reads ε (a composite method only when its composite has an ε rule). */
function readsEpsilon(method: string, composite: CompositeName): boolean {
  return reads(method, EPSILON) && (!isComposite(method) || compositeRuleKinds(composite).has('epsilon'));
}

const isComposite = (m: string): boolean => reads(m, COMPOSITE);
const isContrastive = (m: string): boolean => reads(m, NORMALIZE);
/** Methods that read `--meta-lr` (meta-saliency). */
export const readsMetaLr = (m: string): boolean => reads(m, META_LR);
const readersOf = (param: ParamSpec): string[] => methodNames().filter((m) => reads(m, param));

/** Parameters of registered methods beyond the built-in ones: parsed and passed on generically. */
const extraParams = (): ParamSpec[] => registeredParams(BUILTIN_PARAMS).filter((p) => !BUILTIN_PARAMS.includes(p));

/** Checks that a flag is read by one of the methods, so that no flag is silently ignored. */
function needReader(flag: string, given: boolean, methods: readonly string[], reads: (m: string) => boolean, readers: string): void {
  if (given && !methods.some(reads)) throw usage(`${flag} is used by ${readers}, and none of the methods given (${methods.join(', ')}) reads it`);
}

/**
 * Parses the parameter flags for `methods`. Of α and β (`lrp-alphabeta`), one may be left out: it
 * follows from α − β = 1.
 */
export function parseMethodParams(opts: MethodParamCliOptions, methods: readonly string[]): ParamRequest {
  const epsilon = opts.epsilon === undefined ? DEFAULT_EPSILON : EPSILON.parse(opts.epsilon);
  const composite = opts.composite === undefined ? DEFAULT_COMPOSITE : COMPOSITE.parse(opts.composite);

  const alphaBeta = methods.some((m) => reads(m, ALPHA));
  let alpha = 1;
  let beta = 0;
  if (alphaBeta && (opts.alpha !== undefined || opts.beta !== undefined)) {
    const a = opts.alpha === undefined ? undefined : ALPHA.parse(opts.alpha);
    const b = opts.beta === undefined ? undefined : BETA.parse(opts.beta);
    alpha = a ?? b! + 1;
    beta = b ?? a! - 1;
    if (!(alpha >= 0 && beta >= 0 && Math.abs(alpha - beta - 1) <= 1e-9)) {
      throw usage(`lrp-alphabeta needs α ≥ 0, β ≥ 0 and α − β = 1, got α = ${alpha}, β = ${beta} (e.g. --alpha 2 --beta 1, or --alpha 1 --beta 0)`);
    }
  }

  const seed = opts.seed === undefined ? undefined : SEED.parse(opts.seed);
  const box = opts.box === undefined ? null : BOX.parse(opts.box);
  const normalize = opts.normalize === true;

  needReader('--epsilon', opts.epsilon !== undefined, methods, (m) => readsEpsilon(m, composite), `lrp-epsilon and lrp/clrp1/clrp2 with an epsilon-* composite (--composite ${composite} has no ε rule)`);
  needReader('--alpha', opts.alpha !== undefined, methods, (m) => reads(m, ALPHA), 'lrp-alphabeta (the overlay opacity is --opacity)');
  needReader('--beta', opts.beta !== undefined, methods, (m) => reads(m, BETA), 'lrp-alphabeta');
  needReader('--composite', opts.composite !== undefined, methods, isComposite, compositeMethods().join(', '));
  needReader('--box', box !== null, methods, (m) => usesZBox(m, composite), `methods with the zB rule (lrp, clrp1, clrp2 with the gu2018 or epsilon-gamma-box composite; --composite is ${composite})`);
  needReader('--normalize', normalize, methods, isContrastive, 'the contrastive methods (clrp1, clrp2, contrastive-excitation)');
  const metaLearningRate = opts.metaLr === undefined ? undefined : META_LR.parse(opts.metaLr);
  needReader('--meta-lr', metaLearningRate !== undefined, methods, readsMetaLr, `the gradient-family methods (${GRADIENT_FAMILY.join(', ')})`);

  const extra: Record<string, unknown> = {};
  for (const param of extraParams()) {
    const given = (opts as Record<string, unknown>)[flagKey(param.flag)];
    if (given === undefined) continue;
    extra[param.name] = param.type === 'boolean' ? given === true : param.parse(String(given));
    needReader(`--${flagName(param.flag)}`, true, methods, (m) => reads(m, param), readersOf(param).join(', '));
  }

  return {
    epsilon, epsilonGiven: opts.epsilon !== undefined, alpha, beta, composite, box, normalize, seed,
    zbMethods: methods.filter((m): m is MethodName => usesZBox(m, composite)),
    ...(metaLearningRate !== undefined ? { metaLearningRate } : {}),
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
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
export function paramsFor(method: string, request: ParamRequest, box: PixelBox | null): MethodParams {
  const p: MethodParams = {};
  if (reads(method, EPSILON) && !isComposite(method)) p.epsilon = request.epsilon;
  if (reads(method, ALPHA)) {
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
  if (request.seed !== undefined && reads(method, SEED)) p.seed = request.seed;
  if (request.metaLearningRate !== undefined && readsMetaLr(method)) p.metaLearningRate = request.metaLearningRate;
  for (const param of extraParams()) {
    if (!reads(method, param)) continue;
    const value = request.extra?.[param.name] ?? param.default;
    if (value !== undefined) (p as Record<string, unknown>)[param.name] = value;
  }
  return p;
}
