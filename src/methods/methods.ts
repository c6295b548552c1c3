/**
 * The backward methods as views of the registry (registry.ts): each is a rule table — the gradient
 * family (specs/gradient.ts) differs only at ReLU-like gates, LRP methods propagate relevance with
 * a linear rule per layer (specs/lrp.ts, composites.ts).
 */
import { BacklightError } from '../errors.js';
import { BACKWARD_SPECS, BUILTIN_METHODS, methodNames, type MethodName } from './registry.js';
import type { BackwardMethodSpec } from './spec.js';
import { GRADIENT_METHODS } from './specs/gradient.js';

export type { MethodName } from './registry.js';
export type { MethodParams } from './params.js';

/** The built-in backward methods' names, in order. */
export const METHOD_NAMES: readonly MethodName[] = BUILTIN_METHODS.filter((m) => m.kind === 'backward').map((m) => m.name as MethodName);

/** A backward method's spec. */
export type Method = BackwardMethodSpec<MethodName>;

/** The gradient family of Nie et al. (2018), whose maps differ only at ReLU-like gates. */
export const GRADIENT_FAMILY: readonly GradientFamilyName[] = GRADIENT_METHODS.map((m) => m.name);
export type GradientFamilyName = (typeof GRADIENT_METHODS)[number]['name'];

/** Every registered backward method by name (a live view of the registry). */
export const METHODS = BACKWARD_SPECS as Readonly<Record<MethodName, Method>>;

/** A backward method by name; a usage error for other names. */
export function methodByName(name: string): Method {
  const m = (METHODS as Record<string, Method>)[name];
  if (!m) throw new BacklightError(`unknown method '${name}' (available: ${methodNames('backward').join(', ')})`, 'usage');
  return m;
}
