/**
 * Einsum of one or two operands (PyTorch exports torch.einsum as it is), explicit output
 * (`ab,bc->ac`), no ellipsis, no index repeated within an operand. The gradient of an operand is
 * the einsum of the signal with the other operand onto that operand's indices; the signal carries
 * an extra leading index for its K seeds (the [K, …] view). Every index of the operand must appear
 * in the output or the other operand (else the gradient would need a broadcast einsum cannot write).
 * LRP: with a constant operand the op is linear in the other and gets the ε rule; a product of two
 * signals splits relevance evenly (the uniform rule, as at MatMul).
 */
import { parseEquation, type Equation } from '../ir/einsum.js';
import { attrString } from '../ir/graph.js';
import { divideByStabilized, relevanceProduct } from './relevance.js';
import { refuse, unviewK, viewK } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/** A letter no term of the equation uses, for the K axis of the signal. */
function freeLetter(ctx: RuleContext, eq: Equation): string {
  const used = new Set([...eq.inputs.join(''), ...eq.output]);
  return [...'kKzZyYxXwW'].find((c) => !used.has(c)) ?? refuse(ctx, 'the equation uses every letter kept for the seed axis');
}

function backward(ctx: RuleContext, signal: string): (string | undefined)[] {
  const { node, emit } = ctx;
  const eq = parseEquation(attrString(node, 'equation', ''));
  if (!eq || eq.inputs.length > 2) refuse(ctx, 'only explicit einsum equations of one or two operands without ellipsis or repeated indices are supported');
  const k = freeLetter(ctx, eq);
  const ys = ctx.shape(node.outputs[0]!);
  const s = viewK(ctx, signal, ys);
  return node.inputs.map((name, i) => {
    if (!ctx.needs[i]) return undefined;
    const mine = eq.inputs[i]!;
    const others = eq.inputs.filter((_, j) => j !== i);
    const available = new Set([...eq.output, ...others.join('')]);
    if ([...mine].some((c) => !available.has(c))) refuse(ctx, `operand ${i} has an index that is summed away alone ('${attrString(node, 'equation', '')}')`);
    const terms = [`${k}${eq.output}`, ...others];
    const g = emit.op('Einsum', [s, ...node.inputs.filter((_, j) => j !== i)], { equation: `${terms.join(',')}->${k}${mine}` }, 'einsumGrad');
    return unviewK(ctx, g, ctx.shape(name));
  });
}

export const einsum: OpRules = {
  gradient: (ctx) => backward(ctx, ctx.signals[0]!),
  lrp(ctx) {
    const s = divideByStabilized(ctx, ctx.signals[0]!, ctx.node.outputs[0]!);
    const grads = backward(ctx, s);
    const live = ctx.needs.filter(Boolean).length;
    return grads.map((g, i) => {
      if (!g) return undefined;
      const x = ctx.node.inputs[i]!;
      const r = relevanceProduct(ctx, x, g, ctx.shape(x));
      return live > 1 ? ctx.emit.op('Mul', [r, ctx.emit.scalar(1 / live)], {}, 'uniformShare') : r;
    });
  },
};
