/**
 * The explorer page: open a model and an input (file pickers, drag & drop, or the built-in demo),
 * choose the preprocessing, methods, targets and layer, and see the maps. The model runs in a
 * worker (engine.ts / worker.ts); this file keeps the page's state and wires the controls.
 *
 * Test hook: `window.__backlight` (hook.ts) mirrors the state — status, error text, backend, the
 * input tensor and every method's raw attribution — so that test/web.e2e.test.ts can compare the
 * page's numbers with Node's.
 */
import './style.css';
import demoModelUrl from '../../assets/models/digits-cnn.onnx?url';
import demoDigitsUrl from '../../assets/demo/digits.npy?url';
import demoModelMeta from '../../assets/models/digits-cnn.json';
import { BacklightError, oneLine } from '../../src/errors.js';
import type { NpyArray } from '../../src/io/npy.js';
import { onnxFromFiles } from '../../src/tfjs/import.js';
import { describePreprocess, inputDims, isPresetName, pixelBounds, resolvePreprocess, type Preprocess, type PreprocessOverrides } from '../../src/io/preprocess.js';
import {
  isFrameworkMethod,
  methodGroups,
  methodLabel,
  paramsFor,
  softmaxRow,
  topPredictions,
  type Prediction,
  parseMethodParams,
  type ExplainMethodName,
  type MethodParams,
  type TensorLike,
} from '../../src/core.js';
import { CancelledError, Engine } from './engine.js';
import { fetchWithProgress, kindOf, readWithProgress } from './files.js';
import { decodeImage, npyImage, readNpy, type PreparedInput } from './image.js';
import type { PageHook, Status } from './hook.js';
import type { BackendChoice, BackendInfo, MethodResult, ModelInfo } from './protocol.js';
import { backendText, canvasOf, methodSummary, renderGrid, renderPredictions, saveBlob, tileSize, type FigureModel } from './view.js';
import { checkLabelCount, parseLabels, presetClassNames } from './classNames.js';
import { drawFigure } from './figure.js';
import { guessPreset } from './guessPreset.js';
import { setupLightbox } from './lightbox.js';
import { decodePhoto, type Photo } from './photo.js';

const hook: PageHook = (window.__backlight = { status: 'starting', error: null, backend: null, model: null, input: null, logits: null, targets: [], results: [] });

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  backend: $('backend'),
  modelName: $('model-name'),
  modelShape: $('model-shape'),
  modelFile: $<HTMLInputElement>('model-file'),
  demoModel: $<HTMLButtonElement>('demo-model'),
  modelProgress: $<HTMLProgressElement>('model-progress'),
  inputName: $('input-name'),
  inputFile: $<HTMLInputElement>('input-file'),
  thumbs: $('thumbs'),
  preset: $<HTMLSelectElement>('preset'),
  size: $<HTMLInputElement>('size'),
  preprocessDesc: $('preprocess-desc'),
  methods: $('methods'),
  signed: $<HTMLInputElement>('signed'),
  layerRow: $('layer-row'),
  layer: $<HTMLSelectElement>('layer'),
  predictions: $('predictions'),
  run: $<HTMLButtonElement>('run'),
  cancel: $<HTMLButtonElement>('cancel'),
  backendChoice: $<HTMLSelectElement>('backend-choice'),
  runProgress: $<HTMLProgressElement>('run-progress'),
  status: $('status'),
  error: $('error'),
  grid: $('grid'),
  labelsFile: $<HTMLInputElement>('labels-file'),
  labelsName: $('labels-name'),
  labelsClear: $<HTMLButtonElement>('labels-clear'),
  presetGuess: $('preset-guess'),
  resultsBar: $('results-bar'),
  saveFigure: $<HTMLButtonElement>('save-figure'),
};
const enlarge = setupLightbox($<HTMLDialogElement>('lightbox'));

// ---------------------------------------------------------------------------------------------
// State

interface LoadedModel {
  info: ModelInfo;
  /** Kept to load the model again into a fresh worker after a cancel. */
  blob: Blob;
  /** The model's own class names (the demo's), if any. */
  labels: string[] | null;
  /** Number of classes, once a prediction has shown it. */
  classes: number | null;
}

type InputSource = { kind: 'image'; name: string; file: Blob } | { kind: 'npy'; name: string; array: NpyArray; index: number };

const state = {
  model: null as LoadedModel | null,
  source: null as InputSource | null,
  preprocess: null as Preprocess | null,
  prepared: null as PreparedInput | null,
  probabilities: new Float64Array(0) as Float64Array,
  /** The five best classes of the input. */
  top: [] as Prediction[],
  targets: [] as number[],
  results: [] as (MethodResult & { params: MethodParams })[],
  busy: false,
  /** Class names from a labels file the user opened (they beat the model's and the preset's). */
  labelsFile: null as { name: string; labels: string[] } | null,
  /** The decoded photo of an image input, to draw the overlays on. */
  photo: null as { source: InputSource; photo: Photo } | null,
  /** What the grid shows, for the figure export. */
  figure: null as FigureModel | null,
};

const engine = new Engine({ backend: ui.backendChoice.value as BackendChoice });

const DEFAULT_METHODS: ExplainMethodName[] = ['gradient', 'guided-backprop', 'lrp'];

// ---------------------------------------------------------------------------------------------
// Status and errors

function setStatus(status: Status, text: string): void {
  hook.status = status;
  ui.status.textContent = text;
  document.body.dataset.status = status;
}

/** Shows an error as the command line prints it (without its `backlight: ` prefix). */
function showError(e: unknown): void {
  if (e instanceof CancelledError) return;
  const err = e instanceof Error ? e : new Error(String(e));
  const text = err.name === 'BacklightError' ? oneLine(err.message) : `internal error: ${oneLine(err.message)}`;
  hook.error = text;
  ui.error.textContent = text;
  ui.error.hidden = false;
  setStatus('error', 'failed');
  if (err.name !== 'BacklightError') console.error(err);
}

function clearError(): void {
  hook.error = null;
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function setBusy(busy: boolean): void {
  state.busy = busy;
  ui.run.disabled = busy;
  ui.cancel.disabled = !busy;
  document.body.classList.toggle('busy', busy);
}

function progressBar(bar: HTMLProgressElement, fraction: number | null): void {
  bar.hidden = false;
  if (fraction === null) bar.removeAttribute('value');
  else bar.value = fraction;
}

// ---------------------------------------------------------------------------------------------
// Model

/** Labels that only repeat the class index (the demo's "0"…"9") say nothing: drop them. */
function usefulLabels(labels: readonly string[] | null | undefined): string[] | null {
  if (!labels || labels.every((l, i) => l === String(i))) return null;
  return [...labels];
}

/**
 * The class names shown: a labels file's, else the model's own, else the preset's when they are
 * as many as the model's classes (an ImageNet-sized model with 1001 classes gets none).
 */
function currentLabels(): readonly string[] | null {
  if (state.labelsFile) return state.labelsFile.labels;
  const model = state.model;
  if (!model) return null;
  if (model.labels) return model.labels;
  const names = isPresetName(ui.preset.value) ? usefulLabels(presetClassNames(ui.preset.value)) : null;
  return names && names.length === model.classes ? names : null;
}

function setLabelsFile(file: { name: string; labels: string[] } | null): void {
  state.labelsFile = file;
  ui.labelsClear.hidden = !file;
  ui.labelsName.textContent = file ? `${file.name} (${file.labels.length} names)` : 'no labels file: names from the preset';
}

/**
 * A new model keeps the input only if it fits: a .npy tensor of another shape (the demo's digits
 * under an ImageNet model) is put away rather than sent to the model, which could only refuse it.
 */
function dropUnfitInput(shape: readonly (number | string)[]): void {
  const src = state.source;
  if (src?.kind !== 'npy') return;
  const per = src.array.dims.slice(1);
  const fits = per.length === shape.length - 1 && per.every((d, i) => typeof shape[i + 1] !== 'number' || shape[i + 1] === d);
  if (fits) return;
  state.source = null;
  state.photo = null;
  ui.inputName.textContent = `– (${src.name} [${per.join(', ')}] does not fit this model)`;
  ui.thumbs.replaceChildren();
}

async function loadModel(blob: Blob, name: string, options: { demo: boolean; labels?: string[]; tfjs?: boolean }): Promise<boolean> {
  setBusy(true);
  clearError();
  setStatus('loading', `reading ${name}…`);
  try {
    const bytes = await readWithProgress(blob, (f) => progressBar(ui.modelProgress, f));
    setStatus('loading', `importing ${name}…`);
    progressBar(ui.modelProgress, null);
    await engine.ready;
    const info = await engine.call('load', { bytes, name }, undefined, [bytes]);
    state.model = { info, blob, labels: usefulLabels(options.labels), classes: null };
    hook.model = name;
    ui.modelName.textContent = name;
    ui.modelShape.textContent = `input '${info.inputName}' [${info.inputShape.join(', ')}]`;
    let guess = guessPreset(info.inputShape);
    // TF.js ImageNet models are Keras's, trained on x/127.5 − 1.
    if (options.tfjs && guess.preset === 'imagenet') guess = { preset: 'imagenet-tf', reason: `${guess.reason}, a TF.js model (Keras's x/127.5 − 1)` };
    ui.preset.value = guess.preset;
    ui.presetGuess.textContent = guess.preset === 'none' ? `preset: ${guess.reason}` : `preset guessed from the model's input (${guess.reason}); change it if the model was trained otherwise`;
    ui.size.value = '';
    setLabelsFile(null);
    dropUnfitInput(info.inputShape);
    setStatus('ready', 'model loaded');
    ui.modelProgress.hidden = true;
    setBusy(false);
    return true;
  } catch (e) {
    // A cancel (CancelledError) is reported by `cancel`, which also owns the busy state then.
    if (e instanceof CancelledError) return false;
    ui.modelProgress.hidden = true;
    setBusy(false);
    showError(e);
    return false;
  }
}

async function loadModelFile(file: File): Promise<void> {
  if (await loadModel(file, file.name, { demo: false })) await prepare({ autoRun: false });
}

/**
 * A TF.js model.json with its shards (or any set of files holding one model): imported (with an
 * NCHW input) and written as ONNX here, so the worker, its reloads and the WebGPU fallback keep
 * handling ONNX bytes.
 */
async function loadModelFiles(files: File[]): Promise<void> {
  if (files.length === 1 && !/\.json$/i.test(files[0]!.name)) return loadModelFile(files[0]!);
  clearError();
  setStatus('loading', 'importing the TF.js model…');
  let model: { name: string; bytes: Uint8Array };
  try {
    // NCHW input: the layer-map methods read the input's spatial axes as 2 and 3, and ONNX bytes do not say a model is NHWC.
    model = await onnxFromFiles(files.map((f) => [f.name, f] as const), undefined, { inputLayout: 'nchw' });
  } catch (e) {
    showError(e);
    return;
  }
  if (await loadModel(new Blob([model.bytes as Uint8Array<ArrayBuffer>]), model.name, { demo: false, tfjs: true })) await prepare({ autoRun: false });
}

async function loadDemo(): Promise<void> {
  try {
    setStatus('loading', 'fetching the demo model…');
    const model = await fetchWithProgress(demoModelUrl, (f) => progressBar(ui.modelProgress, f));
    if (!(await loadModel(model, 'digits-cnn.onnx', { demo: true, labels: demoModelMeta.classes }))) return;
    const digits = await (await fetch(demoDigitsUrl)).arrayBuffer();
    await prepare({ autoRun: true, source: { kind: 'npy', name: 'digits.npy', array: readNpy(digits, 'digits.npy'), index: 0 } });
  } catch (e) {
    showError(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Input, preprocessing, predictions

/** The size field: W or W,H in pixels, as the command line's --size. */
function overrides(): PreprocessOverrides {
  const text = ui.size.value.trim();
  if (!text) return {};
  const m = /^([0-9]+)\s*(?:,\s*([0-9]+))?$/.exec(text);
  const w = m ? Number(m[1]) : NaN;
  const h = m?.[2] !== undefined ? Number(m[2]) : w;
  if (!(Number.isSafeInteger(w) && Number.isSafeInteger(h) && w > 0 && h > 0)) {
    throw new BacklightError(`size '${text}' must be W or W,H in pixels (positive integers), e.g. 224 or 320,240`, 'usage');
  }
  return { size: [w, h] };
}

/**
 * Preprocesses the input (`source`, else the current one, which it replaces once decoded) for the
 * model, predicts, lists the top-5 classes and (optionally) explains.
 */
async function prepare({ autoRun, source }: { autoRun: boolean; source?: InputSource }): Promise<void> {
  const model = state.model;
  if (!model) return;
  clearError();
  state.results = [];
  state.prepared = null;
  hook.results = [];
  hook.input = null;
  hook.logits = null;
  ui.grid.replaceChildren();
  ui.predictions.replaceChildren();
  state.figure = null;
  ui.resultsBar.hidden = true;
  try {
    state.preprocess = resolvePreprocess(ui.preset.value, overrides(), model.info.inputShape);
    ui.preprocessDesc.textContent = describePreprocess(state.preprocess);
    const src = source ?? state.source;
    if (!src) {
      setStatus('ready', 'open an image or a .npy file');
      ui.resultsBar.hidden = true;
      return;
    }
    state.prepared = src.kind === 'image' ? await decodeImage(src.file, src.name, state.preprocess) : npyImage(src.array, src.index, state.preprocess);
    if (src.kind !== 'image') state.photo = null;
    else if (state.photo?.source !== src) state.photo = { source: src, photo: await decodePhoto(src.file) };
    state.source = src;
    ui.inputName.textContent = src.kind === 'npy' && src.array.dims[0]! > 1 ? `${src.name} [${src.index}]` : src.name;
    renderThumbs();
    hook.input = state.prepared.tensor;
    setBusy(true);
    setStatus('running', 'predicting…');
    const [{ logits, backend }] = await Promise.all([engine.call('predict', { input: state.prepared.tensor }), refreshLayers(state.prepared.tensor.dims)]);
    showBackend(backend);
    hook.logits = logits;
    state.probabilities = softmaxRow(logits, 0);
    state.targets = [topPredictions(logits, 0, null, 1)[0]!.index];
    model.classes = logits.dims[1]!;
    state.top = topPredictions(logits, 0, null, 5);
    // A labels file opened before the model's class count was known, and that does not fit it, goes.
    let labelsError: unknown = null;
    try {
      if (state.labelsFile) checkLabelCount(state.labelsFile.labels, state.labelsFile.name, model.classes);
    } catch (e) {
      labelsError = e;
      setLabelsFile(null);
    }
    drawPredictions();
    setBusy(false);
    setStatus('ready', 'ready');
    if (labelsError) return showError(labelsError);
    if (autoRun) await explain();
  } catch (e) {
    if (e instanceof CancelledError) return;
    setBusy(false);
    showError(e);
  }
}

function drawPredictions(): void {
  renderPredictions(ui.predictions, state.top, state.targets, currentLabels(), (c) => {
    if (state.busy) return;
    // A click adds the class to the targets (or removes it, keeping at least one) and explains.
    const has = state.targets.includes(c);
    if (has && state.targets.length === 1) return;
    state.targets = has ? state.targets.filter((t) => t !== c) : [...state.targets, c];
    drawPredictions();
    void explain();
  });
}

function renderThumbs(): void {
  const src = state.source;
  ui.thumbs.replaceChildren();
  if (!src || src.kind !== 'npy' || src.array.dims[0]! < 2) return;
  const count = Math.min(src.array.dims[0]!, 64);
  for (let i = 0; i < count; i++) {
    const pic = npyImage(src.array, i, state.preprocess).display;
    const c = canvasOf(pic, 28);
    const b = document.createElement('button');
    b.type = 'button';
    b.className = i === src.index ? 'thumb selected' : 'thumb';
    b.title = `image ${i}`;
    b.append(c);
    b.addEventListener('click', () => {
      if (state.busy) return;
      void prepare({ autoRun: true, source: { ...src, index: i } });
    });
    ui.thumbs.append(b);
  }
}

async function refreshLayers(dims: number[]): Promise<void> {
  const { layers, defaultLayer } = await engine.call('layers', { dims });
  const keep = ui.layer.value;
  ui.layer.replaceChildren(
    ...layers.map((l) => {
      const o = document.createElement('option');
      o.value = l.name;
      o.textContent = `${l.name} (${l.op}, ${l.shape.slice(1).join('×')})${l.name === defaultLayer ? ' — default' : ''}`;
      return o;
    }),
  );
  const names = layers.map((l) => l.name);
  ui.layer.value = names.includes(keep) ? keep : (defaultLayer ?? names.at(-1) ?? '');
}

function showBackend(b: BackendInfo): void {
  hook.backend = b;
  ui.backend.textContent = backendText(b);
  const notes = [b.fallback, b.crossOriginIsolated ? null : 'the page is not cross-origin isolated (COOP/COEP headers), so wasm runs on one thread'];
  ui.backend.title = notes.filter(Boolean).join('; ') || 'what runs the compiled graphs';
}

// ---------------------------------------------------------------------------------------------
// Explaining

function selectedMethods(): ExplainMethodName[] {
  return [...ui.methods.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map((c) => c.value as ExplainMethodName);
}

async function explain(): Promise<void> {
  const { prepared, preprocess } = state;
  if (!prepared || !preprocess || state.busy) return;
  const methods = selectedMethods();
  if (methods.length === 0) {
    setStatus('ready', 'choose at least one method');
    return;
  }
  clearError();
  // The same parameters as `backlight explain` with the default flags; zB bounds from the preprocessing.
  const request = parseMethodParams({}, methods);
  const box = request.zbMethods.length > 0 ? pixelBounds(preprocess) : null;
  const jobs = methods.map((method) => ({ method, params: paramsFor(method, request, box), ...(isFrameworkMethod(method) && ui.layer.value ? { layer: ui.layer.value } : {}) }));
  state.results = [];
  hook.results = [];
  hook.targets = [...state.targets];
  setBusy(true);
  setStatus('running', 'explaining…');
  progressBar(ui.runProgress, 0);
  const t0 = performance.now();
  try {
    const { backend } = await engine.call('explain', { input: prepared.tensor, targets: state.targets, jobs }, (p) => {
      progressBar(ui.runProgress, p.done / p.total);
      if (!p.result) {
        setStatus('running', `compiling and running ${p.label}…`);
        return;
      }
      const params = jobs[p.done - 1]!.params;
      state.results.push({ ...p.result, params });
      hook.results = [...state.results];
      drawGrid();
    });
    showBackend(backend);
    const seconds = ((performance.now() - t0) / 1000).toFixed(2);
    lastRunText = `${methods.length} method${methods.length > 1 ? 's' : ''} × ${state.targets.length} class${state.targets.length > 1 ? 'es' : ''} in ${seconds} s`;
    setStatus('done', lastRunText);
  } catch (e) {
    // A cancel (CancelledError) is reported by `cancel`, which also owns the busy state then.
    if (e instanceof CancelledError) return;
    showError(e);
  } finally {
    ui.runProgress.hidden = true;
  }
  setBusy(false);
}

/** The status line of the last finished run. */
let lastRunText = 'done';

function drawGrid(): void {
  const p = state.prepared;
  if (!p || !state.preprocess || state.results.length === 0) return;
  const photo = state.photo ? { photo: state.photo.photo, preprocess: state.preprocess } : null;
  const tile = tileSize(ui.grid.clientWidth, state.results[0]!.targets.length);
  state.figure = renderGrid(ui.grid, { display: p.display, geometry: p.geometry, photo, results: state.results, probabilities: state.probabilities, labels: currentLabels(), signed: ui.signed.checked, tile }, enlarge);
  shownTile = tile;
  ui.resultsBar.hidden = false;
}
/** The tile size of the grid shown: a window resize that changes it draws the grid again. */
let shownTile = 0;
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (state.results.length > 0 && !state.busy && tileSize(ui.grid.clientWidth, state.results[0]!.targets.length) !== shownTile) drawGrid();
  }, 150);
});

function saveFigure(): void {
  if (!state.figure) return;
  // Twice the page's size: sharp text and tiles.
  drawFigure(state.figure, 2).toBlob((b) => b && saveBlob(b, 'backlight-figure.png'), 'image/png');
}

async function openLabels(file: File): Promise<void> {
  try {
    clearError();
    const labels = parseLabels(await file.text(), file.name);
    const classes = state.model?.classes;
    if (classes) checkLabelCount(labels, file.name, classes);
    setLabelsFile({ name: file.name, labels });
    drawPredictions();
    drawGrid();
    // A refused labels file before this one left the status at 'failed'.
    if (hook.status === 'error') setStatus(state.results.length > 0 ? 'done' : 'ready', state.results.length > 0 ? lastRunText : 'ready');
  } catch (e) {
    showError(e);
  }
}

/**
 * Ends the run (or load) in progress: a fresh worker takes over and gets the current model again
 * (status 'loading' until it has it, then 'cancelled').
 */
async function cancel(backend?: BackendChoice): Promise<void> {
  const restarted = ++restarts;
  engine.restart(backend);
  setStatus('loading', 'cancelled; restarting…');
  ui.modelProgress.hidden = true;
  ui.runProgress.hidden = true;
  setBusy(true);
  try {
    showBackend(await engine.ready);
    const model = state.model;
    if (model) {
      const bytes = await readWithProgress(model.blob, () => undefined);
      await engine.call('load', { bytes, name: model.info.name }, undefined, [bytes]);
    }
    if (restarted === restarts) setStatus('cancelled', 'cancelled');
  } catch (e) {
    showError(e);
  } finally {
    if (restarted === restarts) setBusy(false);
  }
}
let restarts = 0;

// ---------------------------------------------------------------------------------------------
// Controls

function buildMethodList(): void {
  for (const [title, names] of methodGroups() as [string, ExplainMethodName[]][]) {
    const box = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = title;
    box.append(legend);
    for (const m of names) {
      const label = document.createElement('label');
      label.className = 'check';
      label.title = methodSummary(m);
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = m;
      input.checked = DEFAULT_METHODS.includes(m);
      input.addEventListener('change', updateLayerRow);
      label.append(input, ` ${methodLabel(m)}`);
      box.append(label);
    }
    ui.methods.append(box);
  }
  updateLayerRow();
}

function updateLayerRow(): void {
  ui.layerRow.hidden = !selectedMethods().some(isFrameworkMethod);
}

async function openInput(file: File): Promise<void> {
  if (state.busy) return;
  try {
    clearError();
    const source: InputSource = kindOf(file.name) === 'npy' ? { kind: 'npy', name: file.name, array: readNpy(await file.arrayBuffer(), file.name), index: 0 } : { kind: 'image', name: file.name, file };
    await prepare({ autoRun: false, source });
  } catch (e) {
    showError(e);
  }
}

/** Several files, or a .json on the model's box: a TF.js model with its shards; else one file as `openFile` takes it. */
function openFiles(files: File[], target: 'model' | 'input' | 'auto'): void {
  if (state.busy || files.length === 0) return;
  const tfjs = files.some((f) => /\.json$/i.test(f.name)) && (files.length > 1 || target === 'model');
  if (tfjs) void loadModelFiles(files);
  else openFile(files[0]!, target);
}

function openFile(file: File, target: 'model' | 'input' | 'auto'): void {
  if (state.busy) return;
  // A .txt or .json file dropped outside the model and input boxes names the classes (on the
  // model's box a file is taken as a model, whatever its name).
  if (target === 'auto' && /\.(txt|json)$/i.test(file.name)) return void openLabels(file);
  const kind = target === 'auto' ? (kindOf(file.name) === 'model' ? 'model' : 'input') : target;
  if (kind === 'model') void loadModelFile(file);
  else void openInput(file);
}

ui.modelFile.addEventListener('change', () => {
  const files = [...(ui.modelFile.files ?? [])];
  ui.modelFile.value = '';
  openFiles(files, 'model');
});
ui.inputFile.addEventListener('change', () => {
  const f = ui.inputFile.files?.[0];
  ui.inputFile.value = '';
  if (f) openFile(f, 'input');
});
ui.demoModel.addEventListener('click', () => void (state.busy ? undefined : loadDemo()));
ui.preset.addEventListener('change', () => void prepare({ autoRun: false }));
ui.size.addEventListener('change', () => void prepare({ autoRun: false }));
ui.signed.addEventListener('change', drawGrid);
ui.labelsFile.addEventListener('change', () => {
  const f = ui.labelsFile.files?.[0];
  ui.labelsFile.value = '';
  if (f) void openLabels(f);
});
ui.labelsClear.addEventListener('click', () => {
  setLabelsFile(null);
  drawPredictions();
  drawGrid();
});
ui.saveFigure.addEventListener('click', saveFigure);
ui.run.addEventListener('click', () => void explain());
ui.cancel.addEventListener('click', () => void cancel());
ui.backendChoice.addEventListener('change', () => void cancel(ui.backendChoice.value as BackendChoice));

// Drops: on a zone it goes there; anywhere else by file name (.onnx is a model, else an input).
for (const zone of document.querySelectorAll<HTMLElement>('[data-drop]')) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    zone.classList.remove('over');
    openFiles([...(e.dataTransfer?.files ?? [])], zone.dataset.drop === 'model' ? 'model' : 'input');
  });
}
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  openFiles([...(e.dataTransfer?.files ?? [])], 'auto');
});

buildMethodList();
engine.ready.then(showBackend, showError);
void loadDemo();
