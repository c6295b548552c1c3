/** The fuzz suite's vocabulary: a case, what it prepares, and the categories a run falls into. */

export const CATEGORIES = [
  'refused-1', 'refused-2', 'accepted-equal',
  'internal-error', 'silent-NaN', 'hang', 'partial-output', 'raw-control-char', 'accepted-but-ort-refuses', 'wrong',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** The categories a case may end in unless it says otherwise: a clean refusal or a right answer. */
export const GOOD: readonly Category[] = ['refused-1', 'refused-2', 'accepted-equal'];

export interface Prepared {
  /** The command line after `backlight`. */
  args: string[];
  /** The --out folder: nothing may appear there when the run is refused. */
  out: string;
  /**
   * For an accepted run: the model file and the input tensor its logits.npy must match under
   * onnxruntime's own forward pass (absent for image inputs, whose tensor the harness does not
   * recompute; their outputs are checked for finiteness only).
   */
  check?: { model: string; input: { data: Float32Array; dims: number[] } };
}

export interface FuzzCase {
  /** group/name[#index], unique. */
  id: string;
  group: 'onnx' | 'flip' | 'image' | 'npy' | 'option' | 'eval';
  /** Writes the case's files under `dir` (a fresh folder) and returns its command line. */
  prepare(dir: string): Promise<Prepared>;
  /** The categories this case may end in (default GOOD); narrower for hand-made cases. */
  expect?: readonly Category[];
  /** Why a category outside GOOD is expected for now (e.g. owned by the output-discipline work). */
  knownIssue?: string;
  /** Too slow for the default test run (the full run only). */
  slow?: boolean;
}
