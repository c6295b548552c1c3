/**
 * The report parts of `eval sensitivity` (report.ts writes the files): summary.csv rows, the HTML
 * section, the bar charts (Nie et al. Figure 7: one bar per method, here one per pair of classes,
 * ± 1 standard error) and the text table the command prints.
 */
import type { TopLevelSpec } from 'vega-lite';
import { esc, fmt, table } from './html.js';
import type { Figure } from './plots.js';
import { PAIR_TEXT, SENSITIVITY_PAIRS, type SensitivityPair, type SensitivitySummary } from './sensitivity.js';
import type { Summary } from '../metrics/stats.js';

const MEASURES = [
  { key: 'l2', title: 'normalized l2 distance', csv: 'l2' },
  { key: 'spearman', title: "Spearman's ρ", csv: 'spearman' },
] as const;

export function sensitivityCsvRows(s: SensitivitySummary): unknown[][] {
  const rows: unknown[][] = [];
  for (const r of s.rows) {
    for (const pair of SENSITIVITY_PAIRS) {
      for (const m of MEASURES) {
        const v = r.pairs[pair][m.key];
        for (const stat of ['mean', 'std', 'sem', 'median'] as const) rows.push(['sensitivity', r.name, 'method', pair, `${m.csv}_${stat}`, v[stat], v.n]);
        rows.push(['sensitivity', r.name, 'method', pair, `${m.csv}_skipped`, v.skipped, v.n + v.skipped]);
      }
    }
  }
  return rows;
}

const SHORT: Record<SensitivityPair, string> = { random: 'random', maxmin: 'max–min', top2: 'top-2' };

const pm = (v: Summary, digits = 3): string => `${fmt(v.mean, digits)} <span class="c">± ${fmt(v.sem, digits)}</span>${v.skipped ? ` <span class="b">(${v.skipped} skipped)</span>` : ''}`;

export function sensitivityHtml(s: SensitivitySummary): string {
  const parts: string[] = [];
  parts.push(
    `<h2>Class sensitivity</h2><p>For each image, each method's maps of two classes are compared: <b>random</b> = ${esc(PAIR_TEXT.random)}, <b>max–min</b> = ${esc(PAIR_TEXT.maxmin)}, <b>top-2</b> = ${esc(PAIR_TEXT.top2)}. ` +
      `l2 = the distance between the two maps after each is divided by its l2 norm (0: the same map up to scale; √2 ≈ 1.414: no pixel in common). ρ = Spearman's rank correlation of the two maps (1: the same ranking of pixels). ` +
      `A class-sensitive method has a large distance and a low ρ. Mean ± standard error over ${s.images} images (${s.classes} class${s.classes === 1 ? '' : 'es'}; top-1 of the model ${fmt(100 * s.top1, 1)} %); skipped: pairs where a measure is undefined — ρ for a constant map, l2 for an all-zero map (e.g. the Grad-CAM map of a class with no positive evidence).</p>`,
  );
  const head = ['', ...SENSITIVITY_PAIRS.flatMap((p) => [`l2, ${SHORT[p]}`, `ρ, ${SHORT[p]}`])];
  parts.push(table(head, s.rows.map((r) => [esc(r.label), ...SENSITIVITY_PAIRS.flatMap((p) => [pm(r.pairs[p].l2), pm(r.pairs[p].spearman)])])));
  return parts.join('\n');
}

const PAIR_LABEL: Record<SensitivityPair, string> = { random: 'two random classes', maxmin: 'max vs min class', top2: 'top-1 vs top-2' };

export function sensitivityFigures(s: SensitivitySummary, title: string): Figure[] {
  const order = s.rows.map((r) => r.label);
  const pairs = SENSITIVITY_PAIRS.map((p) => PAIR_LABEL[p]);
  return MEASURES.map((m) => {
    const data = s.rows.flatMap((r) =>
      SENSITIVITY_PAIRS.map((p) => {
        const v = r.pairs[p][m.key];
        const sem = Number.isFinite(v.sem) ? v.sem : 0;
        return { method: r.label, pair: PAIR_LABEL[p], mean: v.mean, lo: v.mean - sem, hi: v.mean + sem };
      }),
    ).filter((d) => Number.isFinite(d.mean));
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `${title}: class sensitivity (${m.title})`,
      width: 560,
      height: 260,
      data: { values: data },
      encoding: {
        x: { field: 'method', type: 'nominal', title: null, sort: order, axis: { labelAngle: -30, labelLimit: 200 } },
        xOffset: { field: 'pair', type: 'nominal', sort: pairs },
      },
      layer: [
        {
          mark: { type: 'bar' },
          encoding: {
            y: { field: 'mean', type: 'quantitative', title: `mean ${m.title}`, ...(m.key === 'spearman' ? {} : { scale: { domainMin: 0 } }) },
            color: { field: 'pair', type: 'nominal', title: 'classes compared', sort: pairs },
          },
        },
        { mark: { type: 'rule' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      ],
    } as TopLevelSpec;
    return {
      file: `sensitivity-${m.key}.png`,
      caption:
        m.key === 'l2'
          ? "Mean l2 distance between the l2-normalized maps of two classes of the same image (Nie et al. Figure 7 uses two random classes), per method; higher = more class-sensitive. Error bars ± 1 standard error."
          : "Mean Spearman's ρ between the maps of two classes of the same image (Rebuffi et al. use the max- and min-scoring classes), per method; lower = more class-sensitive. Error bars ± 1 standard error.",
      spec,
    };
  });
}

/** The table the command prints. */
export function sensitivityText(s: SensitivitySummary): string {
  const w = Math.max(...s.rows.map((r) => r.label.length), 10) + 2;
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '–');
  const lines = [`${''.padEnd(w)}${'l2 random'.padStart(12)}${'ρ random'.padStart(11)}${'ρ max–min'.padStart(12)}${'ρ top-2'.padStart(10)}`];
  for (const r of s.rows) lines.push(`${r.label.padEnd(w)}${f(r.pairs.random.l2.mean).padStart(12)}${f(r.pairs.random.spearman.mean).padStart(11)}${f(r.pairs.maxmin.spearman.mean).padStart(12)}${f(r.pairs.top2.spearman.mean).padStart(10)}`);
  lines.push(`(mean over ${s.images} images; l2 of the normalized maps: higher = more class-sensitive; Spearman ρ: lower = more class-sensitive)`);
  return `${lines.join('\n')}\n`;
}
