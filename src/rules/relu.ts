/**
 * Relu: σ' = 1[y > 0]. Computed from the output y, so that onnxruntime can still fuse the
 * producing Conv with its activation (the pre-activation is then never materialized).
 */
import { rectifierRules } from './rectifier.js';

export const relu = rectifierRules({ condition: ({ emit, node }) => emit.op('Greater', [node.outputs[0]!, emit.scalar(0)], {}, 'reluMask') });
