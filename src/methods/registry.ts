/**
 * The one method registry: every method `explain`, the CLI, eval and the web page know is a
 * `MethodSpec` registered here. A new method is one spec file (or one entry in a family's file)
 * plus one line in BUILTIN_METHODS; the CLI's `--method`, its parameter flags and help, eval's
 * `--method` and the web page's method list all follow from the registry.
 */
import { BacklightError } from '../errors.js';
import type { ParamSpec } from './params.js';
import type { BackwardMethodSpec, LayerMapMethodSpec, MethodGroup, MethodSpec } from './spec.js';
import { CONTRASTIVE_METHODS } from './specs/contrastive.js';
import { EXCITATION_METHODS } from './specs/excitation.js';
import { GRADIENT_METHODS } from './specs/gradient.js';
import { LAYER_MAP_METHODS } from './specs/layerMaps.js';
import { LRP_METHODS } from './specs/lrp.js';

/** The built-in methods, in the order they are listed (backward methods first). */
export const BUILTIN_METHODS = [...GRADIENT_METHODS, ...LRP_METHODS, ...CONTRASTIVE_METHODS, ...EXCITATION_METHODS, ...LAYER_MAP_METHODS] as const;

type Builtin = (typeof BUILTIN_METHODS)[number];
/** Names of the built-in backward methods. */
export type MethodName = Extract<Builtin, { kind: 'backward' }>['name'];
/** Names of the built-in layer-map methods. */
export type FrameworkMethodName = Extract<Builtin, { kind: 'layer-map' }>['name'];

const registry = new Map<string, MethodSpec>();

/**
 * Live views by kind: the records `METHODS` and `FRAMEWORK_METHODS` (methods.ts, framework.ts)
 * are these objects, so a registered method is found through them too.
 */
export const BACKWARD_SPECS: Record<string, BackwardMethodSpec> = {};
export const LAYER_MAP_SPECS: Record<string, LayerMapMethodSpec> = {};

/** Adds a method; its name must be new. Returns the spec. */
export function registerMethod<S extends MethodSpec>(spec: S): S {
  if (registry.has(spec.name)) throw new Error(`registerMethod: method '${spec.name}' is already registered`);
  registry.set(spec.name, spec);
  if (spec.kind === 'backward') BACKWARD_SPECS[spec.name] = spec;
  else LAYER_MAP_SPECS[spec.name] = spec;
  return spec;
}

/** Removes a method registered with `registerMethod` (tests); built-in methods stay. */
export function unregisterMethod(name: string): void {
  if ((BUILTIN_METHODS as readonly MethodSpec[]).some((m) => m.name === name)) throw new Error(`unregisterMethod: '${name}' is built in`);
  registry.delete(name);
  delete BACKWARD_SPECS[name];
  delete LAYER_MAP_SPECS[name];
}

for (const m of BUILTIN_METHODS) registerMethod(m as MethodSpec);

/** Every registered method name, backward methods first, each kind in registration order. */
export function methodNames(kind?: MethodSpec['kind']): string[] {
  if (kind === 'backward') return Object.keys(BACKWARD_SPECS);
  if (kind === 'layer-map') return Object.keys(LAYER_MAP_SPECS);
  return [...Object.keys(BACKWARD_SPECS), ...Object.keys(LAYER_MAP_SPECS)];
}

export function isMethod(name: string): boolean {
  return registry.has(name);
}

/** The spec of a method; a usage error listing the methods for an unknown name. */
export function methodSpec(name: string): MethodSpec {
  const m = registry.get(name);
  if (!m) throw new BacklightError(`unknown method '${name}' (available: ${methodNames().join(', ')})`, 'usage');
  return m;
}

/** Whether `name` is a layer-map method (Grad-CAM, NormGrad, …). */
export function isFrameworkMethod(name: string): name is FrameworkMethodName {
  return registry.get(name)?.kind === 'layer-map';
}

/** The display name of a method, for tables and figures. */
export const methodLabel = (name: string): string => methodSpec(name).label;

/** The one-line description of a method, for help texts and tooltips. */
export const methodSummary = (name: string): string => methodSpec(name).summary;

const GROUP_TITLES: Record<MethodGroup, string> = { gradient: 'gradient family', relevance: 'relevance (LRP)', 'layer-map': 'layer maps' };

/** The methods by group, as the web page lists them: [title, names] in a fixed group order. */
export function methodGroups(): [string, string[]][] {
  const specs = methodNames().map((n) => registry.get(n)!);
  return (Object.keys(GROUP_TITLES) as MethodGroup[]).map((g) => [GROUP_TITLES[g], specs.filter((s) => s.group === g).map((s) => s.name)]);
}

/** Whether `method` lists `param` among the parameters it reads. */
export const reads = (method: string, param: ParamSpec): boolean => registry.get(method)?.params.includes(param) ?? false;

/** Every parameter some registered method reads, each once, built-in order first. */
export function registeredParams(first: readonly ParamSpec[] = []): ParamSpec[] {
  const out = [...first];
  for (const name of methodNames()) for (const p of registry.get(name)!.params) if (!out.includes(p)) out.push(p);
  return out;
}

/** The built-in layer-map methods' names, in order. */
export const FRAMEWORK_METHOD_NAMES: readonly FrameworkMethodName[] = BUILTIN_METHODS.filter((m) => m.kind === 'layer-map').map((m) => m.name as FrameworkMethodName);

/** A layer-map method's spec. */
export type FrameworkMethod = LayerMapMethodSpec<FrameworkMethodName>;

/** Every registered layer-map method by name (a live view of the registry). */
export const FRAMEWORK_METHODS = LAYER_MAP_SPECS as Readonly<Record<FrameworkMethodName, FrameworkMethod>>;
