/**
 * `backlight eval pointing|ablation|sensitivity|adversarial`: the options checked into an
 * `EvalPlan` without touching files.
 */
import { GRADIENT_FAMILY } from '../../core.js';
import type { AdversarialConfig } from '../../eval/adversarial.js';
import { parseShard, type Shard } from '../../eval/datasets.js';
import type { EvalMethodName } from '../../eval/maps.js';
import { DEFAULT_POINTING, type PointingConfig } from '../../eval/pointing.js';
import { SENSITIVITY_METHODS } from '../../eval/sensitivity.js';
import { parsePreprocessOptions } from '../inputs.js';
import { integerOption, numberOption, usage, threadsOption } from '../options.js';
import { parseEpsilon, parseLevels, parseMethods, type EvalCliOptions } from './options.js';

/** Everything the options say, checked without touching files. */
export interface EvalPlan {
  evaluation: 'pointing' | 'ablation' | 'sensitivity' | 'adversarial';
  model: string;
  data: string;
  annotations?: string;
  methods: EvalMethodName[];
  out: string;
  limit?: number;
  batch: number;
  shard: Shard | null;
  threads?: number;
  seed: number;
  format: 'text' | 'json' | 'quiet';
  preprocess: ReturnType<typeof parsePreprocessOptions>;
  pointing?: Omit<PointingConfig, 'methods'>;
  ablation?: { patchSize?: number; fill: 'preset' | 'dataset' | number[]; steps: number; target: 'label' | 'predicted' };
  adversarial?: Omit<AdversarialConfig, 'methods'> & { labels?: string };
}

export function planEval(evaluation: EvalPlan['evaluation'], opts: EvalCliOptions): EvalPlan {
  if (opts.json && opts.quiet) throw usage('give either --json or --quiet, not both');
  if (opts.out.trim() === '') throw usage("--out '' names no folder: give the output folder, e.g. --out eval/pointing");
  const plan: EvalPlan = {
    evaluation,
    model: opts.model,
    data: opts.data,
    annotations: opts.annotations,
    methods: parseMethods(opts.method, evaluation === 'sensitivity' || evaluation === 'adversarial' ? SENSITIVITY_METHODS : GRADIENT_FAMILY),
    out: opts.out,
    limit: opts.limit === undefined ? undefined : integerOption('--limit', opts.limit, 0, 1),
    batch: integerOption('--batch', opts.batch, 1, 1),
    shard: opts.shard === undefined ? null : parseShard(opts.shard),
    threads: threadsOption(opts.threads),
    seed: integerOption('--seed', opts.seed, 0, 0),
    format: opts.json ? 'json' : opts.quiet ? 'quiet' : 'text',
    preprocess: parsePreprocessOptions(opts),
  };
  if (evaluation === 'sensitivity') return plan;
  if (evaluation === 'adversarial') {
    const target = (opts.target ?? 'predicted').trim().toLowerCase();
    if (target !== 'label' && target !== 'predicted') throw usage(`--target '${opts.target}' must be 'predicted' (the model's class on x) or 'label' (the ground truth)`);
    plan.adversarial = { ...parseEpsilon(opts.epsilon), target, grid: integerOption('--grid', opts.grid, 3, 0), labels: opts.labels };
    return plan;
  }
  if (evaluation === 'pointing') {
    plan.pointing = {
      tolerance: numberOption('--tolerance', opts.tolerance, DEFAULT_POINTING.tolerance, (v) => v >= 0, '≥ 0 (pixels)'),
      levels: parseLevels(opts.levels),
      seed: plan.seed,
      smallThreshold: numberOption('--small', opts.small, DEFAULT_POINTING.smallThreshold, (v) => v > 0 && v <= 1, 'in (0, 1] (share of the image)'),
    };
  } else {
    let fill: 'preset' | 'dataset' | number[] = 'preset';
    if (opts.fill !== undefined) {
      const f = opts.fill.trim().toLowerCase();
      if (f === 'preset' || f === 'dataset') fill = f;
      else {
        const parts = f.split(',').map((x) => x.trim());
        const values = parts.map(Number);
        if (parts.some((x) => x === '') || values.some((v) => !Number.isFinite(v))) {
          throw usage(`--fill '${opts.fill}' must be 'preset' (0, the preset's mean), 'dataset' (the images' per-channel mean) or numbers in normalized units (one, or one per channel)`);
        }
        fill = values;
      }
    }
    const target = (opts.target ?? 'label').trim().toLowerCase();
    if (target !== 'label' && target !== 'predicted') throw usage(`--target '${opts.target}' must be 'label' (the ground-truth class) or 'predicted'`);
    plan.ablation = {
      patchSize: opts.patch === undefined ? undefined : integerOption('--patch', opts.patch, 0, 1),
      fill,
      steps: integerOption('--steps', opts.steps, 16, 0),
      target,
    };
  }
  return plan;
}
