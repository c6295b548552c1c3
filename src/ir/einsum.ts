/** Einsum equations: the explicit form (`ab,bc->ac`) without ellipsis or repeated indices. */

export interface Equation {
  inputs: string[];
  output: string;
}

export function parseEquation(equation: string): Equation | undefined {
  const eq = equation.replace(/\s+/g, '');
  const m = /^([a-zA-Z]*(?:,[a-zA-Z]*)*)->([a-zA-Z]*)$/.exec(eq);
  if (!m) return undefined;
  const inputs = m[1]!.split(',');
  if (inputs.some((t) => new Set(t).size !== t.length)) return undefined;
  return { inputs, output: m[2]! };
}

/** The output shape of an einsum, from its operands' shapes (size-1 axes broadcast). */
export function einsumShape(equation: string, shapes: readonly (readonly number[])[]): number[] | undefined {
  const eq = parseEquation(equation);
  if (!eq || eq.inputs.length !== shapes.length || eq.inputs.some((t, i) => t.length !== shapes[i]!.length)) return undefined;
  const size = new Map<string, number>();
  eq.inputs.forEach((t, i) => [...t].forEach((c, j) => size.set(c, Math.max(size.get(c) ?? 1, shapes[i]![j]!))));
  return [...eq.output].map((c) => size.get(c) ?? 1);
}
