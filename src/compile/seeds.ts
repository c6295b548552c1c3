/**
 * The seeds phase: the signals on the logits that the backward passes start from, K per image,
 * as one K-major batch [K·N, classes] (see rules/types.ts).
 */
import { int64 } from '../ir/tensor.js';
import { SEED, addOutput, type Compilation, type SeedCounts } from './compilation.js';

export interface Seeds {
  /** [N, K, classes]: the one-hot top-K seeds, then the given ones. */
  perImage: string;
  /** The same seeds K-major, [K·N, classes], before any scaling. */
  kMajor: string;
}

/**
 * Emits the seeds: the `top` highest logits one-hot (chosen in the graph; their classes become the
 * `targets` output [N, top]), then the `given` ones fed as the `seed` input [N, given, classes].
 */
export function emitSeeds(c: Compilation, counts: SeedCounts): Seeds {
  const { emit, k, batch, classes, logits } = c;
  const parts: string[] = [];
  if (counts.top > 0) {
    const [, top] = emit.ops('TopK', [logits, emit.int64s([counts.top])], { axis: 1, largest: 1, sorted: 1 }, 2, 'topk');
    addOutput(c, emit, top!, 'targets', [batch, counts.top], 'int64');
    const classIds = emit.constant(int64([classes], Array.from({ length: classes }, (_, i) => i)), 'classIds');
    const onehot = emit.op('Equal', [emit.op('Unsqueeze', [top!, emit.int64s([2])]), classIds]);
    parts.push(emit.op('Cast', [onehot], { to: 1 }, 'topSeed'));
  }
  if (counts.given > 0) {
    c.inputs.push({ name: SEED, dtype: 'float32', shape: [batch, counts.given, classes] });
    parts.push(SEED);
  }
  const perImage = parts.length === 1 ? parts[0]! : emit.op('Concat', parts, { axis: 1 });
  // K-major: [N, K, classes] → [K, N, classes] → [K·N, classes].
  const transposed = k > 1 && batch > 1 ? emit.op('Transpose', [perImage], { perm: [1, 0, 2] }) : perImage;
  return { perImage, kMajor: emit.reshape(transposed, [k * batch, classes], 'seed') };
}

/** Seed value: 1 ('one', the default), or the logit of the target ('logit', LRP's R = S_j). */
export type SeedScale = 'one' | 'logit';

/** The K-major seed scaled as a method asks. */
export function scaleSeed(c: Compilation, seed: string, scale: SeedScale | undefined, emit = c.emit): string {
  if (scale !== 'logit') return seed;
  const { k, batch, classes, logits } = c;
  // [K·N, classes] ⊙ logits [N, classes], through the [K, N, classes] view when N > 1.
  const scaled = emit.op('Mul', [batch > 1 ? emit.reshape(seed, [k, batch, classes]) : seed, logits], {}, 'seedTimesLogit');
  return batch > 1 ? emit.reshape(scaled, [k * batch, classes]) : scaled;
}
