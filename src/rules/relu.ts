/** Relu: σ' = 1[y > 0], computed as Sign(y) since y ≥ 0. */
import { rectifierRules } from './rectifier.js';

export const relu = rectifierRules((ctx) => ctx.emit.op('Sign', [ctx.node.outputs[0]!], {}, 'reluMask'));
