/**
 * Backlight's evaluation metrics: pure functions of maps, boxes and numbers (no Node imports, no
 * onnxruntime), usable in Node and in the browser. Each module documents its definitions.
 */
export * from './types.js';
export * from './random.js';
export * from './stats.js';
export * from './order.js';
export * from './boxes.js';
export * from './pointingGame.js';
export * from './energyPointing.js';
export * from './ablation.js';
export * from './spearman.js';
export * from './classSensitivity.js';
export * from './similarity.js';
export * from './fgsm.js';
export * from './randomization.js';
