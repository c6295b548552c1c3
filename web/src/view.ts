/**
 * Drawing the page's parts from data: the backend badge, the class list, the grid of maps and
 * overlays (rows = methods, columns = targets, the input first, as `backlight explain`'s grid.png)
 * and the downloads of each map. The pictures come from the library's renderer (src/render/).
 */
import { encodeNpy } from '../../src/io/npy.js';
import { className, type Prediction } from '../../src/core.js';
import { DEFAULT_PERCENTILE, toRGBA, type ImageGeometry, type PixelImage } from '../../src/render/index.js';
import { displayOf, drawAttribution, formatProbability, methodLabel, methodSummary as summaryOf, slotAt, type ExplainMethodName } from '../../src/core.js';
import type { BackendInfo, MethodResult } from './protocol.js';

/** Overlay opacity: the command line's --opacity default. */
const OPACITY = 0.6;
/** Shown size of a map tile in CSS pixels (small inputs are scaled up without smoothing). */
const TILE = 136;

export function methodSummary(m: ExplainMethodName): string {
  return summaryOf(m);
}

export function backendText(b: BackendInfo): string {
  const wasm = `wasm · ${b.threads} thread${b.threads === 1 ? '' : 's'}${b.simd ? ' · SIMD' : ''}`;
  const base = b.providers[0] === 'webgpu' ? `WebGPU (${wasm} for the rest)` : b.fallback ? `${wasm} (WebGPU failed)` : wasm;
  return b.crossOriginIsolated ? base : `${base} · not cross-origin isolated`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/** A canvas at the image's own resolution, shown `size` CSS pixels wide. */
export function canvasOf(image: PixelImage, size = TILE): HTMLCanvasElement {
  const rgba = toRGBA(image);
  const c = el('canvas', { width: image.width, height: image.height });
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba.data), image.width, image.height), 0, 0);
  const scale = size / Math.max(image.width, image.height);
  c.style.width = `${Math.round(image.width * scale)}px`;
  c.style.height = `${Math.round(image.height * scale)}px`;
  return c;
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function saveCanvas(canvas: HTMLCanvasElement, name: string): void {
  canvas.toBlob((b) => b && saveBlob(b, name), 'image/png');
}

export function renderPredictions(list: HTMLElement, predictions: readonly Prediction[], targets: readonly number[], labels: readonly string[] | null, onClick: (index: number) => void): void {
  list.replaceChildren(
    ...predictions.map((p) => {
      const bar = el('span', { className: 'bar' });
      bar.style.width = `${Math.max(1, Math.round(p.probability * 100))}%`;
      const button = el(
        'button',
        { type: 'button', className: targets.includes(p.index) ? 'class selected' : 'class', title: `logit ${p.logit.toFixed(3)}` },
        el('span', { className: 'label' }, className(p.index, labels)),
        el('span', { className: 'score' }, `p = ${formatProbability(p.probability)}`),
        bar,
      );
      button.dataset.class = String(p.index);
      button.addEventListener('click', () => onClick(p.index));
      return el('li', {}, button);
    }),
  );
}

export interface GridData {
  display: PixelImage;
  geometry: ImageGeometry;
  results: readonly MethodResult[];
  /** Softmax of the logits, per class. */
  probabilities: Float64Array;
  labels: readonly string[] | null;
  signed: boolean;
}

/** The grid: a header row (input, then one column per target), then a row per method. */
export function renderGrid(container: HTMLElement, data: GridData): void {
  const targets = data.results[0]?.targets ?? [];
  const table = el('table', { className: 'maps' });
  const head = el('tr', {}, el('th'), el('th', {}, 'input'));
  for (const t of targets) head.append(el('th', {}, className(t, data.labels), el('div', { className: 'small' }, `p = ${formatProbability(data.probabilities[t] ?? 0)}`)));
  table.append(head);
  data.results.forEach((r, row) => {
    const how = displayOf(r.method, data.signed);
    const timing = r.timings.compileMs > 0 ? `compile ${Math.round(r.timings.compileMs)} ms · run ${Math.round(r.timings.runMs)} ms` : `run ${Math.round(r.timings.runMs)} ms`;
    const tr = el('tr', {}, el('th', { className: 'method', title: methodSummary(r.method) }, methodLabel(r.method), el('div', { className: 'small' }, timing)));
    tr.append(el('td', {}, row === 0 ? canvasOf(data.display, TILE / 2) : ''));
    r.targets.forEach((t, k) => {
      const values = slotAt(r.attribution, 0, k);
      const drawn = drawAttribution(values, data.geometry, data.display, how, { clip: DEFAULT_PERCENTILE, opacity: OPACITY });
      const map = canvasOf(drawn.heat);
      const overlay = canvasOf(drawn.overlay);
      map.title = `${r.method}, class ${t}: ${how.signed ? 'signed channel sum' : 'max |·| over channels'}`;
      overlay.title = `${r.method}, class ${t}: overlay`;
      const stem = `${r.method}__${t}`;
      const npyDims = [1, ...r.attribution.dims.slice(2)];
      const link = (text: string, action: () => void): HTMLButtonElement => {
        const b = el('button', { type: 'button', className: 'link' }, text);
        b.addEventListener('click', action);
        return b;
      };
      const downloads = el(
        'div',
        { className: 'downloads' },
        link('map.png', () => saveCanvas(map, `${stem}.png`)),
        link('overlay.png', () => saveCanvas(overlay, `${stem}_overlay.png`)),
        link('.npy', () => saveBlob(new Blob([encodeNpy(values.slice(), npyDims) as Uint8Array<ArrayBuffer>]), `${stem}.npy`)),
      );
      const cell = el('td', { className: 'cell' }, el('div', { className: 'pair' }, map, overlay), downloads);
      cell.dataset.method = r.method;
      cell.dataset.class = String(t);
      tr.append(cell);
    });
    table.append(tr);
  });
  container.replaceChildren(table);
}
