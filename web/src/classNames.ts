/**
 * Class names in the page: the names that come with a preprocessing preset, and a labels file
 * the user opens. The ImageNet names are the library's data (src/io/imagenetClasses.ts); the
 * CIFAR-10 and MNIST names are short enough to live here until the presets carry their names
 * (one place to switch over: `presetClassNames`).
 */
import { BacklightError } from '../../src/errors.js';
import { IMAGENET_CLASSES } from '../../src/io/imagenetClasses.js';
import type { PresetName } from '../../src/io/preprocess.js';

/** CIFAR-10's classes in index order, as torchvision's `CIFAR10.classes`. */
export const CIFAR10_CLASSES: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
/** MNIST's classes: the digits. */
export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** The class names that go with a preset (null for `none`). */
export function presetClassNames(preset: PresetName): readonly string[] | null {
  switch (preset) {
    case 'imagenet':
    case 'imagenet-tf':
      return IMAGENET_CLASSES;
    case 'cifar10':
      return CIFAR10_CLASSES;
    case 'mnist':
      return MNIST_CLASSES;
    default:
      return null;
  }
}

/**
 * The names in a labels file, as the command line's `--labels` reads them: a JSON array of
 * strings, else one name per line (a trailing newline is ignored, CRLF is fine, a BOM too).
 * Throws a BacklightError naming the file.
 */
export function parseLabels(text: string, name: string): string[] {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw new BacklightError(`labels file '${name}': not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new BacklightError(`labels file '${name}': a JSON labels file must hold an array of strings`);
    return value as string[];
  }
  const lines = body.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new BacklightError(`labels file '${name}' is empty: give one class name per line, or a JSON array of strings`);
  return lines.map((l) => l.trim());
}

/** Checks that a labels list names exactly the model's classes (as `--labels` does). */
export function checkLabelCount(labels: readonly string[], name: string, classes: number): void {
  if (labels.length !== classes) throw new BacklightError(`labels file '${name}' names ${labels.length} classes, but the model has ${classes}`, 'usage');
}
