/**
 * Ground-truth boxes and the regions they define.
 *
 * Coordinates: pixel index units. The pixel in column c, row r sits at the point (c, r); a box
 * `[x0, y0, x1, y1]` is the closed rectangle x0 ≤ x ≤ x1, y0 ≤ y ≤ y1 and holds the pixels whose
 * (c, r) lie in it — inclusive on both ends, as the ILSVRC / wsolevaluation boxes are (`origBoxes` in
 * `annotations.json`; its `boxes` are the same numbers times 227/W, 227/H, still read this way).
 * Boxes may be fractional and may stick out of the image.
 *
 * For a 224×224 model input made by resizing the 227×227 images: `resizeBoxes(boxes, 227, 224)`
 * (every coordinate × 224/227); for a 224 centre crop: `translateBoxes(boxes, -2, -2)`.
 */

/** `[x0, y0, x1, y1]`, x0 ≤ x1 and y0 ≤ y1, in pixel index units (see the module note). */
export type Box = readonly [x0: number, y0: number, x1: number, y1: number];

/** Checks raw boxes (e.g. parsed JSON): 4 finite numbers each, x0 ≤ x1, y0 ≤ y1. */
export function toBoxes(raw: readonly (readonly number[])[]): Box[] {
  return raw.map((b, i) => {
    if (b.length !== 4 || !b.every((v) => Number.isFinite(v))) throw new RangeError(`box ${i}: expected 4 finite numbers, got [${b.join(', ')}]`);
    const [x0, y0, x1, y1] = b as [number, number, number, number];
    if (x0 > x1 || y0 > y1) throw new RangeError(`box ${i}: expected x0 ≤ x1 and y0 ≤ y1, got [${b.join(', ')}]`);
    return [x0, y0, x1, y1] as const;
  });
}

/** Every coordinate times the factors: x by `sx`, y by `sy` (default `sx`). */
export function scaleBox(box: Box, sx: number, sy: number = sx): Box {
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

/** `scaleBox` over a list. */
export function scaleBoxes(boxes: readonly Box[], sx: number, sy: number = sx): Box[] {
  return boxes.map((b) => scaleBox(b, sx, sy));
}

/**
 * Boxes of an image of size `from` moved to the same image resized to `to` (numbers are square sizes,
 * or `{ width, height }`): x × to.width / from.width, y × to.height / from.height. 227 → 224: × 224/227.
 */
export function resizeBoxes(
  boxes: readonly Box[],
  from: number | { width: number; height: number },
  to: number | { width: number; height: number },
): Box[] {
  const f = typeof from === 'number' ? { width: from, height: from } : from;
  const t = typeof to === 'number' ? { width: to, height: to } : to;
  return scaleBoxes(boxes, t.width / f.width, t.height / f.height);
}

/** Boxes shifted by (dx, dy); a crop at (left, top) is `translateBoxes(boxes, -left, -top)`. */
export function translateBoxes(boxes: readonly Box[], dx: number, dy: number): Box[] {
  return boxes.map((b) => [b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy] as const);
}

/** Euclidean distance from the point (x, y) to the closed box (0 inside or on the edge). */
export function distanceToBox(x: number, y: number, box: Box): number {
  const dx = Math.max(box[0] - x, 0, x - box[2]);
  const dy = Math.max(box[1] - y, 0, y - box[3]);
  return Math.hypot(dx, dy);
}

/** Distance from (x, y) to the union of the boxes: the smallest distance to any; Infinity for none. */
export function distanceToBoxes(x: number, y: number, boxes: readonly Box[]): number {
  let d = Infinity;
  for (const b of boxes) d = Math.min(d, distanceToBox(x, y, b));
  return d;
}

/**
 * Whether (x, y) lies within `tolerance` pixels of the union of the boxes: distance ≤ tolerance
 * (Euclidean, to the nearest point of any box). Zhang et al.'s pointing game uses 15.
 */
export function pointInBoxes(x: number, y: number, boxes: readonly Box[], tolerance = 0): boolean {
  return distanceToBoxes(x, y, boxes) <= tolerance;
}

/**
 * The `width × height` mask (row-major, 1 = in) of the pixels within `tolerance` of the union of the
 * boxes; `tolerance` 0 (default) is the union itself: pixels (c, r) with x0 ≤ c ≤ x1, y0 ≤ r ≤ y1 for
 * some box.
 */
export function boxesMask(boxes: readonly Box[], width: number, height: number, tolerance = 0): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`boxesMask: width and height must be positive integers (got ${width}×${height})`);
  }
  const mask = new Uint8Array(width * height);
  for (const b of boxes) {
    // Only the rows and columns of the box grown by the tolerance can be in.
    const r0 = Math.max(0, Math.ceil(b[1] - tolerance));
    const r1 = Math.min(height - 1, Math.floor(b[3] + tolerance));
    const c0 = Math.max(0, Math.ceil(b[0] - tolerance));
    const c1 = Math.min(width - 1, Math.floor(b[2] + tolerance));
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        if (tolerance === 0 || distanceToBox(c, r, b) <= tolerance) mask[r * width + c] = 1;
      }
    }
  }
  return mask;
}

/** Fraction of the `width × height` pixels in the union of the boxes (clipped to the image). */
export function boxesAreaFraction(boxes: readonly Box[], width: number, height: number): number {
  return maskFraction(boxesMask(boxes, width, height));
}

/** Fraction of the pixels within `tolerance` of the boxes (the random pointing baseline's expectation). */
export function toleranceAreaFraction(boxes: readonly Box[], width: number, height: number, tolerance: number): number {
  return maskFraction(boxesMask(boxes, width, height, tolerance));
}

/** Fraction of ones in a 0/1 mask. */
export function maskFraction(mask: Uint8Array): number {
  let inside = 0;
  for (let i = 0; i < mask.length; i++) inside += mask[i]!;
  return mask.length === 0 ? 0 : inside / mask.length;
}

/**
 * Whether the image shows a "small object": the union of its boxes covers less than `threshold`
 * (default 0.5) of the image's pixels.
 */
export function isSmallObject(boxes: readonly Box[], width: number, height: number, threshold = 0.5): boolean {
  return boxesAreaFraction(boxes, width, height) < threshold;
}
