/**
 * The report parts of `eval adversarial` (report.ts writes the files): summary.csv rows, the HTML
 * section with the figures of the first images (Nie et al. Figure 8), the bar chart of map changes
 * per method, and the text the command prints.
 */
import type { TopLevelSpec } from 'vega-lite';
import { ADVERSARIAL_SUBSETS, type AdversarialSummary } from './adversarial.js';
import { esc, fmt, fmtPct, table } from './html.js';
import type { Figure } from './plots.js';
import type { Summary } from '../metrics/stats.js';

const MEASURES = [
  { key: 'l2', title: 'normalized l2 distance', hint: 'higher = the map changed more' },
  { key: 'spearman', title: "Spearman's ρ", hint: 'lower = the map changed more' },
  { key: 'ssim', title: 'SSIM', hint: 'lower = the map changed more' },
] as const;

export function adversarialCsvRows(s: AdversarialSummary): unknown[][] {
  const rows: unknown[][] = [];
  const model = (metric: string, v: number, n: number) => rows.push(['adversarial', 'model', 'model', 'all', metric, v, n]);
  model('flip_rate', s.flipRate, s.images);
  model('top1_before', s.top1Before, s.images);
  model('top1_after', s.top1After, s.images);
  model('loss_before_mean', s.lossBefore.mean, s.lossBefore.n);
  model('loss_after_mean', s.lossAfter.mean, s.lossAfter.n);
  model('linf_max', s.linf, s.images);
  for (const r of s.rows) {
    for (const sub of ADVERSARIAL_SUBSETS) {
      for (const m of MEASURES) {
        const v = r.subsets[sub][m.key];
        for (const stat of ['mean', 'std', 'sem', 'median'] as const) rows.push(['adversarial', r.name, 'method', sub, `${m.key}_${stat}`, v[stat], v.n]);
      }
    }
  }
  return rows;
}

const pm = (v: Summary, digits = 3): string => `${fmt(v.mean, digits)} <span class="c">± ${fmt(v.sem, digits)}</span>${v.skipped ? ` <span class="b">(${v.skipped} skipped)</span>` : ''}`;

export function adversarialHtml(s: AdversarialSummary): string {
  const parts: string[] = [];
  const flipped = s.rows[0]?.subsets.flipped.l2.n ?? s.flips;
  parts.push(
    `<h2>Adversarial test (Nie et al. §4.4)</h2><p>FGSM: x' = x + ε · sign(∇ₓ cross-entropy of the ${s.target === 'label' ? 'label' : 'predicted class'}), ε = ${esc(s.epsilonText)} in [0, 1] pixel units (÷ std per channel in the normalized input), clipped to the black–white range. ` +
      `The prediction changed on <b>${s.flips} of ${s.images}</b> images (${fmtPct(s.flipRate)}); top-1 ${fmtPct(s.top1Before)} → ${fmtPct(s.top1After)}; cross-entropy of the attacked class ${fmt(s.lossBefore.mean, 3)} → ${fmt(s.lossAfter.mean, 3)}; largest |x' − x| ${fmt(s.linf * 255, 2)}/255.</p>` +
      `<p>Each method's map of the class predicted on x is compared with its map of the class predicted on x': l2 distance of the l2-normalized maps, Spearman's ρ and SSIM (min-max normalized maps, 11×11 Gaussian window). A map that follows the decision changes (large l2, low ρ and SSIM) when the label flips; a map that recovers the image barely moves. Mean ± standard error; skipped: images where a measure is undefined (l2 for an all-zero map, ρ for a constant one).</p>`,
  );
  const head = ['', ...ADVERSARIAL_SUBSETS.flatMap((sub) => MEASURES.map((m) => `${esc(m.title)}, ${sub === 'all' ? `all (${s.images})` : `flipped (${flipped})`}`))];
  parts.push(table(head, s.rows.map((r) => [esc(r.label), ...ADVERSARIAL_SUBSETS.flatMap((sub) => MEASURES.map((m) => pm(r.subsets[sub][m.key])))])));
  if (s.figures.length) {
    parts.push(`<h2>Maps before and after the attack</h2><p>The first ${s.figures.length} images: top row x, bottom row x', each with the predicted class and its probability; maps drawn as magnitudes (99.5th-percentile scale).</p>`);
    for (const f of s.figures) parts.push(`<figure><img src="${esc(f.file)}" alt="maps of image ${f.index} before and after FGSM"><figcaption>Image ${f.index}${f.flip ? '' : ' (prediction unchanged)'}.</figcaption></figure>`);
  }
  return parts.join('\n');
}

export function adversarialFigures(s: AdversarialSummary, title: string): Figure[] {
  const order = s.rows.map((r) => r.label);
  const subsetName = { all: `all images (${s.images})`, flipped: `label flipped (${s.flips})` };
  const data = s.rows.flatMap((r) =>
    ADVERSARIAL_SUBSETS.flatMap((sub) =>
      MEASURES.map((m) => {
        const v = r.subsets[sub][m.key];
        const sem = Number.isFinite(v.sem) ? v.sem : 0;
        return { method: r.label, images: subsetName[sub], measure: `${m.title} (${m.hint})`, mean: v.mean, lo: v.mean - sem, hi: v.mean + sem };
      }),
    ),
  ).filter((d) => Number.isFinite(d.mean));
  const subsets = ADVERSARIAL_SUBSETS.map((x) => subsetName[x]);
  return [
    {
      file: 'adversarial-change.png',
      caption: `How much each method's map changes under FGSM (ε = ${s.epsilonText}): the map of the class predicted on x vs the map of the class predicted on x', on all images and on those whose prediction flipped. Error bars ± 1 standard error.`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: `${title}: map change under FGSM (ε = ${s.epsilonText})`,
        data: { values: data },
        facet: { column: { field: 'measure', type: 'nominal', title: null, sort: MEASURES.map((m) => `${m.title} (${m.hint})`) } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 300,
          height: 240,
          encoding: {
            x: { field: 'method', type: 'nominal', title: null, sort: order, axis: { labelAngle: -30 } },
            xOffset: { field: 'images', type: 'nominal', sort: subsets },
          },
          layer: [
            {
              mark: { type: 'bar' },
              encoding: {
                y: { field: 'mean', type: 'quantitative', title: 'mean' },
                color: { field: 'images', type: 'nominal', title: null, sort: subsets },
              },
            },
            { mark: { type: 'rule' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
          ],
        },
      } as TopLevelSpec,
    },
  ];
}

/** The lines the command prints. */
export function adversarialText(s: AdversarialSummary): string {
  const w = Math.max(...s.rows.map((r) => r.label.length), 10) + 2;
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '–');
  const lines = [`FGSM ε = ${s.epsilonText}: prediction changed on ${s.flips}/${s.images} images (${fmtPct(s.flipRate)}); top-1 ${fmtPct(s.top1Before)} → ${fmtPct(s.top1After)}`];
  lines.push(`${''.padEnd(w)}${'l2'.padStart(8)}${'ρ'.padStart(8)}${'SSIM'.padStart(8)}${'l2 (flipped)'.padStart(15)}`);
  for (const r of s.rows) lines.push(`${r.label.padEnd(w)}${f(r.subsets.all.l2.mean).padStart(8)}${f(r.subsets.all.spearman.mean).padStart(8)}${f(r.subsets.all.ssim.mean).padStart(8)}${f(r.subsets.flipped.l2.mean).padStart(15)}`);
  lines.push("(map of the prediction on x vs map of the prediction on x'; mean over images)");
  return `${lines.join('\n')}\n`;
}
