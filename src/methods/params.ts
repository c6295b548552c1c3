/**
 * Method parameters as data: each `ParamSpec` names a key of `MethodParams`, its type, default,
 * the check of its value, its command-line flag and help line. A method lists the parameters it
 * reads in its `MethodSpec`; the CLI declares one flag per parameter of the registered methods.
 */
import { BacklightError } from '../errors.js';
import type { Composite, CompositeName, PixelBox } from './composites.js';
import { COMPOSITE_NAMES } from './composites.js';

/** Parameters of the methods that have some (each method reads the ones it needs). */
export interface MethodParams {
  /** LRP-ε ε (default 1e-6). */
  epsilon?: number;
  /** LRP-αβ weights, α − β = 1 (default α = 1, β = 0). */
  alpha?: number;
  beta?: number;
  /** `lrp`: a built-in composite name (default 'gu2018') or a composite of one's own. */
  composite?: string | Composite;
  /** Pixel bounds of the normalized input for the zB rule, per channel. */
  box?: PixelBox;
  /** Override the seed value on the logits: 1, or the target's logit. */
  seed?: 'one' | 'logit';
  /**
   * CLRP: divide R and R_dual by their sums before max(0, R − R_dual), as the authors' code does.
   * Default false: the paper's form (both sum to S_j by conservation).
   */
  normalize?: boolean;
  /**
   * Meta-saliency (Rebuffi et al.): explain the network after one SGD step of this learning rate
   * on the cross-entropy of the target (their public code uses 1e-4). Gradient-family methods; one
   * image and one target per run.
   */
  metaLearningRate?: number;
}

/** One parameter a method reads. */
export interface ParamSpec<T = unknown> {
  /** Its key in `MethodParams`. */
  name: string;
  type: 'number' | 'string' | 'boolean' | 'box';
  /** The value used when none is given (absent: the parameter is only set when given). */
  default?: T;
  /** Allowed values, for string parameters with a closed set. */
  choices?: readonly string[];
  /** The command-line flag, in commander's syntax (`--epsilon <e>`; a boolean has no argument). */
  flag: string;
  /** One line for `--help`. */
  help: string;
  /** Parses and checks a value as written on the command line (usage error naming the flag). */
  parse(text: string): T;
}

const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');

/** A finite number accepted by `ok` (`range` says which, e.g. 'from 0 to 1'). */
export function parseNumber(flag: string, text: string, ok: (v: number) => boolean, range: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw usage(`${flag} '${text}' must be a number ${range}`);
  return v;
}

/** The long flag's name without dashes and argument: `--meta-lr <lr>` → `meta-lr`. */
export const flagName = (flag: string): string => flag.split(/[ ,]+/).find((f) => f.startsWith('--'))!.slice(2);

/** The property commander stores a flag's value under: `--meta-lr <lr>` → `metaLr`. */
export const flagKey = (flag: string): string => flagName(flag).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

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

export const DEFAULT_EPSILON = 1e-6;
export const DEFAULT_COMPOSITE: CompositeName = 'gu2018';

/**
 * ε is a float32 in the compiled graph: below the smallest normal float32 it is subnormal, which
 * kernels running with flush-to-zero read as 0 (a division by zero where z = 0), and above the
 * largest float32 it is +Inf.
 */
export const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
export const FLOAT32_MAX = 3.4028234663852886e38;
export const epsilonInRange = (v: number): boolean => Number.isFinite(v) && v >= FLOAT32_MIN_NORMAL && v <= FLOAT32_MAX;
const EPSILON_RANGE = 'greater than 0, at least 1.18e-38 (the smallest normal float32) and at most 3.4e38, e.g. 1e-6';

export const EPSILON: ParamSpec<number> = {
  name: 'epsilon', type: 'number', default: DEFAULT_EPSILON, flag: '--epsilon <e>',
  help: 'LRP-ε ε, for lrp-epsilon and the dense layers of the epsilon-* composites (default: 1e-6)',
  parse: (t) => parseNumber('--epsilon', t, epsilonInRange, EPSILON_RANGE),
};
export const ALPHA: ParamSpec<number> = {
  name: 'alpha', type: 'number', default: 1, flag: '--alpha <a>', help: 'LRP-αβ α (α − β = 1; default 1)',
  parse: (t) => parseNumber('--alpha', t, () => true, ''),
};
export const BETA: ParamSpec<number> = {
  name: 'beta', type: 'number', default: 0, flag: '--beta <b>', help: 'LRP-αβ β (α − β = 1; default 0; one of --alpha and --beta suffices)',
  parse: (t) => parseNumber('--beta', t, () => true, ''),
};
export const COMPOSITE: ParamSpec<CompositeName> = {
  name: 'composite', type: 'string', default: DEFAULT_COMPOSITE, choices: COMPOSITE_NAMES, flag: '--composite <name>',
  help: `LRP composite of lrp, clrp1 and clrp2: ${COMPOSITE_NAMES.join(', ')} (default: gu2018)`,
  parse: (t) => {
    const name = t.trim();
    if (!(COMPOSITE_NAMES as readonly string[]).includes(name)) throw usage(`unknown composite '${t}' (available: ${COMPOSITE_NAMES.join(', ')})`);
    return name as CompositeName;
  },
};
export const BOX: ParamSpec<PixelBox> = {
  name: 'box', type: 'box', flag: '--box <low,high>',
  help: "zB bounds of the normalized input: LOW,HIGH for all channels, or l1,l2,l3:h1,h2,h3 per channel (default: from the preprocessing's mean and std)",
  parse: parseBox,
};
export const NORMALIZE: ParamSpec<boolean> = {
  name: 'normalize', type: 'boolean', default: false, flag: '--normalize',
  help: 'contrastive methods (clrp1, clrp2, contrastive-excitation): divide R and R_dual by their sums before max(0, R − R_dual)',
  parse: () => true,
};
export const SEED: ParamSpec<'one' | 'logit'> = {
  name: 'seed', type: 'string', choices: ['one', 'logit'], flag: '--seed <one|logit>',
  help: "seed on the target logit: 'one' or 'logit' (its value) (default: logit for LRP methods, one for the gradient family)",
  parse: (t) => {
    const s = t.trim().toLowerCase();
    if (s !== 'one' && s !== 'logit') throw usage(`--seed '${t}' must be 'one' (seed 1 on the target logit) or 'logit' (the target's logit, LRP's default)`);
    return s;
  },
};
export const META_LR: ParamSpec<number> = {
  name: 'metaLearningRate', type: 'number', flag: '--meta-lr <lr>', help: 'meta-saliency learning rate for the gradient-family methods (one target per run)',
  parse: (t) => parseNumber('--meta-lr', t, (v) => v > 0 && v <= FLOAT32_MAX, 'greater than 0 (and a finite float32), e.g. 1e-4'),
};

/** The parameters the built-in methods read, in the order their flags are listed. */
export const BUILTIN_PARAMS: readonly ParamSpec[] = [META_LR, ALPHA, BETA, EPSILON, COMPOSITE, BOX, NORMALIZE, SEED];
