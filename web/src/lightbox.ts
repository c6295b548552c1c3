/**
 * Enlarging a picture of the grid: a modal dialog with the picture as large as the window allows.
 * Maps are enlarged by a whole factor without smoothing (each input pixel stays a sharp square);
 * photos are scaled smoothly. Closed by Escape, the close button, or a click on the backdrop.
 */
import { saveCanvas } from './view.js';

/** The shown size: maps by a whole factor (at least 1), photos by any factor, to fit `room`. */
export function enlargedSize(w: number, h: number, room: { width: number; height: number }, kind: 'map' | 'photo'): { width: number; height: number } {
  const fit = Math.min(room.width / w, room.height / h);
  const scale = kind === 'map' ? Math.max(1, Math.floor(fit)) : fit;
  return { width: Math.round(w * scale), height: Math.round(h * scale) };
}

export function setupLightbox(dialog: HTMLDialogElement): (source: HTMLCanvasElement) => void {
  const stage = dialog.querySelector<HTMLElement>('.stage')!;
  const caption = dialog.querySelector<HTMLElement>('.caption')!;
  const save = dialog.querySelector<HTMLButtonElement>('.save')!;
  let current: HTMLCanvasElement | null = null;
  dialog.querySelector<HTMLButtonElement>('.close')!.addEventListener('click', () => dialog.close());
  // A click outside the picture's box (on the backdrop) closes.
  dialog.addEventListener('click', (e) => {
    if (e.target === dialog) dialog.close();
  });
  save.addEventListener('click', () => current && saveCanvas(current, `${(current.title.split(' (')[0] ?? 'map').replace(/[^\w.-]+/g, '_')}.png`));
  return (source) => {
    const kind = source.dataset.kind === 'photo' ? 'photo' : 'map';
    const copy = document.createElement('canvas');
    copy.width = source.width;
    copy.height = source.height;
    copy.getContext('2d')!.drawImage(source, 0, 0);
    copy.title = source.title;
    const room = { width: Math.max(64, window.innerWidth * 0.9 - 32), height: Math.max(64, window.innerHeight * 0.85 - 64) };
    const size = enlargedSize(source.width, source.height, room, kind);
    copy.style.width = `${size.width}px`;
    copy.style.height = `${size.height}px`;
    copy.className = kind === 'map' ? 'pixelated' : 'smooth';
    stage.replaceChildren(copy);
    caption.textContent = `${source.title.replace(/ \(click to enlarge\)$/, '')} · ${source.width}×${source.height} px`;
    current = copy;
    if (!dialog.open) dialog.showModal();
  };
}
