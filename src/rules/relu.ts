/**
 * Relu: σ' = 1[y > 0], tested on the output y so that onnxruntime can still fuse the producing Conv
 * with its activation (the pre-activation is then never materialized).
 */
import { rectifierRules } from './rectifier.js';

export const relu = rectifierRules({ between: () => ({ lo: 0, hi: undefined }) });
