/** What the eval commands print: the run, and a text table of the summary (or JSON). */
import { resolve } from 'node:path';
import { adversarialText } from '../../eval/adversarialReport.js';
import { POINTING_SUBSETS } from '../../eval/pointing.js';
import { jsonReplacer, type AnySummary, type FinalizeResult } from '../../eval/report.js';
import { sensitivityText } from '../../eval/sensitivityReport.js';
import type { CliIO } from '../errors.js';
import type { EvalPlan } from './plan.js';
import type { EvalReport } from './run.js';

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '–');

/** A text table of a summary (a few lines). */
export function summaryText(s: AnySummary): string {
  if (s.evaluation === 'sensitivity') return sensitivityText(s);
  if (s.evaluation === 'adversarial') return adversarialText(s);
  const lines: string[] = [];
  if (s.evaluation === 'pointing') {
    const w = Math.max(...s.rows.map((r) => r.label.length), 10) + 2;
    lines.push(`${''.padEnd(w)}${POINTING_SUBSETS.map((x) => `${x} (${s.subsetImages[x]})`.padStart(18)).join('')}`);
    for (const r of s.rows) lines.push(`${r.label.padEnd(w)}${POINTING_SUBSETS.map((x) => pct(r.subsets[x].overImages).padStart(18)).join('')}`);
    lines.push(`(pointing accuracy over images, tolerance ${s.tolerance} px; top-1 of the model on these images ${pct(s.top1)})`);
  } else {
    const w = Math.max(...s.rows.map((r) => r.label.length), 10) + 2;
    lines.push(`${''.padEnd(w)}${'logit drop'.padStart(14)}${'prob drop'.padStart(12)}${s.steps > 0 ? `${'deletion AUC'.padStart(15)}${'insertion AUC'.padStart(15)}` : ''}`);
    for (const r of s.rows) {
      const f = (v: number | undefined, d = 4): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '–');
      lines.push(`${r.label.padEnd(w)}${f(r.logitDrop.mean).padStart(14)}${f(r.probDrop.mean).padStart(12)}${s.steps > 0 ? `${f(r.deletionAuc?.mean).padStart(15)}${f(r.insertionAuc?.mean).padStart(15)}` : ''}`);
    }
    lines.push(`(mean over ${s.images} images; patch ${s.patchSize} px)`);
  }
  return `${lines.join('\n')}\n`;
}

export function printEval(report: EvalReport, format: EvalPlan['format'], io: CliIO): void {
  if (format === 'quiet') return;
  if (format === 'json') {
    io.stdout(`${JSON.stringify(report, jsonReplacer)}\n`);
    return;
  }
  const r = report.run;
  const rejected = r.rejected ? `, ${r.rejected} without boxes left out` : '';
  io.stdout(`${report.evaluation}${report.shard ? ` shard ${report.shard}` : ''}: ${r.processed} images evaluated, ${r.skipped} already done${rejected} (${r.seconds.toFixed(1)} s) → ${r.file}\n`);
  if (r.badLines) io.stdout(`(${r.badLines} cut line${r.badLines > 1 ? 's' : ''} in the results ignored; their images were evaluated again)\n`);
  if (report.summary) {
    io.stdout(summaryText(report.summary));
    io.stdout(`report: ${resolve(report.out, 'index.html')}\n`);
  } else io.stdout(`when every shard is done: backlight eval merge ${report.out}\n`);
}

export function printMerge(fin: FinalizeResult, out: string, format: EvalPlan['format'], io: CliIO): void {
  if (format === 'quiet') return;
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ out, records: fin.records, shards: fin.shards, summary: fin.summary, files: fin.files }, jsonReplacer)}\n`);
    return;
  }
  io.stdout(`merged ${fin.shards.length} shard file${fin.shards.length === 1 ? '' : 's'}: ${fin.records} images in ${resolve(out, 'results.jsonl')}\n`);
  io.stdout(summaryText(fin.summary));
  io.stdout(`report: ${resolve(out, 'index.html')}\n`);
}
