/**
 * The preprocessing preset a model most likely wants, from its input shape alone: 224×224 RGB is
 * an ImageNet classifier, 32×32 RGB a CIFAR-10 one, 28×28 gray an MNIST one; anything else gets
 * `none` (the model's size, x/255). Only a guess: the page shows it and the user can change it.
 */
import { resolvePreprocess, type PresetName } from '../../src/io/preprocess.js';

export interface PresetGuess {
  preset: PresetName;
  /** Why, in a few words, for the page ("224×224 RGB input"). */
  reason: string;
}

const CANDIDATES: { preset: PresetName; size: number; channels: 1 | 3; what: string }[] = [
  { preset: 'imagenet', size: 224, channels: 3, what: 'ImageNet' },
  { preset: 'cifar10', size: 32, channels: 3, what: 'CIFAR-10' },
  { preset: 'mnist', size: 28, channels: 1, what: 'MNIST' },
];

export function guessPreset(shape: readonly (number | string)[]): PresetGuess {
  for (const c of CANDIDATES) {
    let fits: boolean;
    try {
      const p = resolvePreprocess(c.preset, {}, shape);
      // The preset must fit on its own: same layout's H, W and channels, all fixed in the model.
      const dims = p.layout === 'nchw' ? shape.slice(1) : [shape[3], shape[1], shape[2]];
      fits = dims[0] === c.channels && dims[1] === c.size && dims[2] === c.size;
    } catch {
      fits = false;
    }
    if (fits) return { preset: c.preset, reason: `${c.size}×${c.size} ${c.channels === 1 ? 'gray' : 'RGB'}, as ${c.what}` };
  }
  return { preset: 'none', reason: 'no known preset has this input size' };
}
