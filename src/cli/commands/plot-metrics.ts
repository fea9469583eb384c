import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Command } from 'commander';

interface Series {
  name: string;
  points: [number, number][];
  color: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** One panel: lines over steps with axes, ticks and a legend, as SVG elements. */
function panel(series: Series[], x0: number, y0: number, w: number, h: number, title: string, yLabel: string, yRange?: [number, number]): string {
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) return '';
  const [xmin, xmax] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [ymin, ymax] = yRange ?? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (ymax === ymin) [ymin, ymax] = [ymin - 1, ymax + 1];
  const X = (x: number) => x0 + 50 + ((x - xmin) / Math.max(1e-9, xmax - xmin)) * (w - 70);
  const Y = (y: number) => y0 + h - 30 - ((y - ymin) / (ymax - ymin)) * (h - 60);
  const out = [`<text x="${x0 + w / 2}" y="${y0 + 18}" text-anchor="middle" font-size="14">${title}</text>`];
  out.push(`<line x1="${X(xmin)}" y1="${Y(ymin)}" x2="${X(xmax)}" y2="${Y(ymin)}" stroke="#444"/>`);
  out.push(`<line x1="${X(xmin)}" y1="${Y(ymin)}" x2="${X(xmin)}" y2="${Y(ymax)}" stroke="#444"/>`);
  for (let i = 0; i <= 4; i++) {
    const yv = ymin + ((ymax - ymin) * i) / 4;
    const xv = xmin + ((xmax - xmin) * i) / 4;
    out.push(`<text x="${X(xmin) - 6}" y="${Y(yv) + 4}" text-anchor="end" font-size="10">${yv.toPrecision(3)}</text>`);
    out.push(`<text x="${X(xv)}" y="${Y(ymin) + 14}" text-anchor="middle" font-size="10">${Math.round(xv)}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h - 2}" text-anchor="middle" font-size="11">optimizer step</text>`);
  out.push(`<text x="${x0 + 12}" y="${y0 + h / 2}" font-size="11" transform="rotate(-90 ${x0 + 12} ${y0 + h / 2})" text-anchor="middle">${yLabel}</text>`);
  series.forEach((s, i) => {
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    if (s.points.length < 40) for (const [x, y] of s.points) out.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    out.push(`<text x="${x0 + w - 10}" y="${y0 + 36 + i * 14}" text-anchor="end" font-size="11" fill="${s.color}">${s.name}</text>`);
  });
  return out.join('\n');
}

/** Reads metrics.jsonl files (one run each; later runs continue the step axis) into series. */
export function metricsSvg(files: string[]): string {
  const loss: Series[] = [], evalLoss: Series[] = [], acc: Series[] = [], reward: Series[] = [];
  let offset = 0;
  files.forEach((f, i) => {
    const run = basename(dirname(f));
    const recs = readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const steps = recs.filter((r) => r.type === 'step');
    const evals = recs.filter((r) => r.type === 'eval');
    const color = COLORS[i % COLORS.length];
    // a resumed run logs some steps again: keep the last record of each step
    const last = <T extends { step: number }>(rs: T[]) => [...new Map(rs.map((r) => [r.step, r])).values()].sort((a, b) => a.step - b.step);
    if (steps.some((r) => typeof r.reward === 'number')) {
      // a GRPO run: its loss is a policy-gradient surrogate, not a cross-entropy; its curve is the reward
      const pts: [number, number][] = last(steps).filter((r) => Number.isFinite(r.reward)).map((r) => [r.step + offset, r.reward]);
      const smooth = pts.map(([x], j) => {
        const win = pts.slice(Math.max(0, j - 9), j + 1);
        return [x, win.reduce((a, p) => a + p[1], 0) / win.length] as [number, number];
      });
      reward.push({ name: `${run} mean reward`, color: '#bbbbbb', points: pts }, { name: `${run} mean reward, last 10 steps`, color, points: smooth });
    } else {
      loss.push({ name: `${run} train loss`, color, points: last(steps).map((r) => [r.step + offset, r.loss]) });
    }
    const ev = last(evals).filter((r) => Number.isFinite(r.evalLoss ?? r.eval_loss));
    if (ev.length) evalLoss.push({ name: `${run} eval loss`, color: COLORS[(i + 3) % COLORS.length], points: ev.map((r) => [r.step + offset, r.evalLoss ?? r.eval_loss]) });
    const ac = last(evals).filter((r) => typeof r.evalAccuracy === 'number');
    if (ac.length) acc.push({ name: `${run} eval accuracy`, color, points: ac.map((r) => [r.step + offset, r.evalAccuracy * 100]) });
    offset += steps.length ? Math.max(...steps.map((r) => r.step)) : 0;
  });
  const w = 720, h = 260;
  const panels: string[] = [];
  const add = (series: Series[], title: string, yLabel: string, yRange?: [number, number]) => {
    if (series.length) panels.push(panel(series, 0, h * panels.length, w, h, title, yLabel, yRange));
  };
  add([...loss, ...evalLoss], 'Loss', 'cross-entropy');
  add(acc, 'Eval accuracy (multiple choice, by generation)', 'accuracy %', [0, 100]);
  const rewards = reward.flatMap((r) => r.points.map((p) => p[1]));
  add(reward, 'GRPO reward (sampled answers)', 'mean reward', rewards.every((x) => x >= 0 && x <= 1) ? [0, 1] : undefined);
  const H = h * panels.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${H}" viewBox="0 0 ${w} ${H}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${panels.join('\n')}\n</svg>\n`;
}

export function plotMetricsCommand(): Command {
  return new Command('plot-metrics')
    .description('draw training curves (loss, eval loss, eval accuracy; a GRPO run’s reward) from metrics.jsonl files as an SVG picture')
    .argument('<files...>', 'metrics.jsonl of one or more runs (later runs continue the step axis)')
    .requiredOption('--out <file.svg>', 'where to write the picture')
    .action((files: string[], o: { out: string }) => {
      writeFileSync(o.out, metricsSvg(files));
      console.error(`plot-metrics: wrote ${o.out}`);
    });
}
