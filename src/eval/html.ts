/** Small HTML and number-formatting helpers of the evaluation reports (index.html). */
import { escapeControl } from '../errors.js';

/** HTML text or attribute value; control characters (not valid in HTML text) are shown escaped. */
export const esc = (s: string): string => escapeControl(s, '\n\t').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
export const fmtPct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '–');
export const fmt = (v: number | undefined, digits = 4): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–');

/** A table: header cells, then rows whose first cell is a row header. Cells are HTML. */
export function table(head: string[], body: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}
