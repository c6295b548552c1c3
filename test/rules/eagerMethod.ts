/** The eager Float64 reference of a gradient-family method (test/reference/eager.ts), for the rule tests. */
import type { GradientFamilyName as MethodName } from '../../src/methods/methods.js';
import { backward, forward, type RefMethod } from '../reference/eager.js';
import type { TinyModel } from '../reference/tinyModels.js';

export function eager(model: TinyModel, x: Float32Array, seed: Float64Array, method: MethodName): Float64Array {
  const refMethod: RefMethod = method === 'gradient-x-input' ? 'gradient' : method;
  const fwd = forward(model.graph, x);
  const g = backward(model.graph, fwd, seed, refMethod);
  if (method === 'gradient-x-input') for (let i = 0; i < g.length; i++) g[i]! *= x[i]!;
  return g;
}
