/**
 * A learning curve as an SVG picture and as CSV: episode returns, their moving mean, a
 * threshold line (CartPole-v1's 475) and greedy-evaluation points, against env steps.
 *
 * Written here rather than with a plotting library: the npm ones either need a DOM
 * (svg.js, d3-selection) or bring a whole grammar of graphics (vega) for four shapes and
 * two axes. The SVG is plain text, one element per shape, with a class on each
 * (`episodes`, `moving-mean`, `threshold`, `evaluations`) so tests and stylesheets find them.
 */

export interface Point {
  /** Env steps done. */
  step: number;
  value: number;
}

export interface LearningCurve {
  /** Each episode's return, at the env step it ended. */
  episodes: Point[];
  /** Greedy evaluations: mean return over their episodes, at the env step they ran. */
  evaluations: Point[];
  /** Episodes in the moving mean. */
  window: number;
  /** A horizontal line (e.g. the return that counts as solved), if any. */
  threshold?: { value: number; label: string };
}

/** The mean of each episode's return and the `window − 1` before it. */
export function movingMean(curve: LearningCurve): Point[] {
  let sum = 0;
  return curve.episodes.map((p, i, all) => {
    sum += p.value;
    if (i >= curve.window) sum -= all[i - curve.window].value;
    return { step: p.step, value: sum / Math.min(i + 1, curve.window) };
  });
}

/**
 * One row per episode (`episode` rows: its return and the moving mean) and per
 * evaluation (`evaluation` rows: the mean return), ordered by env step.
 */
export function learningCurveCsv(curve: LearningCurve): string {
  const mean = movingMean(curve);
  const rows = [
    ...curve.episodes.map((p, i) => ({ step: p.step, cells: ['episode', String(i + 1), fixed(p.value), fixed(mean[i].value)] })),
    ...curve.evaluations.map((p) => ({ step: p.step, cells: ['evaluation', '', fixed(p.value), ''] })),
  ].sort((a, b) => a.step - b.step);
  const header = `env_step,kind,episode,return,moving_mean_${curve.window}`;
  return `${[header, ...rows.map((r) => [String(r.step), ...r.cells].join(','))].join('\n')}\n`;
}

export interface SvgOptions {
  title: string;
  width?: number;
  height?: number;
  /** The y axis' top (default: the largest value, rounded up to a tick). */
  yMax?: number;
}

const fixed = (x: number): string => String(Math.round(x * 100) / 100);
const coord = (x: number): string => String(Math.round(x * 10) / 10);

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Tick values 0, s, 2s, … ≤ max with s a 1, 2 or 5 times a power of ten, about `count` of them. */
export function ticks(max: number, count: number): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  return Array.from({ length: Math.floor(max / step + 1e-9) + 1 }, (_, i) => i * step);
}

function tickLabel(v: number): string {
  return v >= 1000 && v % 1000 === 0 ? `${v / 1000}k` : String(v);
}

export function learningCurveSvg(curve: LearningCurve, options: SvgOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 400;
  const m = { left: 56, right: 16, top: 36, bottom: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = [...curve.episodes, ...curve.evaluations];
  const xMax = Math.max(1, ...all.map((p) => p.step));
  const yTop = options.yMax ?? Math.max(1, ...all.map((p) => p.value), curve.threshold?.value ?? 0);
  const xTicks = ticks(xMax, 6);
  const yTicks = ticks(yTop, 5);
  const yMax = Math.max(yTop, yTicks[yTicks.length - 1]);
  const x = (step: number) => m.left + (step / xMax) * plotW;
  const y = (value: number) => m.top + plotH - (value / yMax) * plotH;
  const points = (ps: Point[]) => ps.map((p) => `${coord(x(p.step))},${coord(y(p.value))}`).join(' ');

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text class="title" x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
    '<g class="grid" stroke="#e4e4e4">',
    ...yTicks.map((v) => `<line x1="${m.left}" x2="${m.left + plotW}" y1="${coord(y(v))}" y2="${coord(y(v))}"/>`),
    '</g>',
    `<g class="axes" stroke="#444"><line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}"/><line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}"/></g>`,
    '<g class="x-ticks" text-anchor="middle">',
    ...xTicks.map((v) => `<text x="${coord(x(v))}" y="${m.top + plotH + 16}">${tickLabel(v)}</text>`),
    '</g>',
    '<g class="y-ticks" text-anchor="end">',
    ...yTicks.map((v) => `<text x="${m.left - 6}" y="${coord(y(v) + 4)}">${tickLabel(v)}</text>`),
    '</g>',
    `<text x="${m.left + plotW / 2}" y="${m.top + plotH + 34}" text-anchor="middle">env steps</text>`,
    `<text transform="translate(14 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">return</text>`,
    `<polyline class="episodes" fill="none" stroke="#9ecae1" stroke-width="1" points="${points(curve.episodes)}"/>`,
    `<polyline class="moving-mean" fill="none" stroke="#08519c" stroke-width="2.5" points="${points(movingMean(curve))}"/>`,
  ];
  if (curve.threshold !== undefined) {
    const ty = coord(y(curve.threshold.value));
    out.push(
      `<line class="threshold" x1="${m.left}" x2="${m.left + plotW}" y1="${ty}" y2="${ty}" stroke="#d62728" stroke-dasharray="6 4"/>`,
      `<text x="${m.left + 4}" y="${coord(y(curve.threshold.value) - 5)}" fill="#d62728">${escapeXml(curve.threshold.label)}</text>`,
    );
  }
  out.push(
    '<g class="evaluations" fill="#ff7f0e" stroke="white">',
    ...curve.evaluations.map(
      (p) => `<circle cx="${coord(x(p.step))}" cy="${coord(y(p.value))}" r="5"><title>${p.step} steps: ${fixed(p.value)}</title></circle>`,
    ),
    '</g>',
  );
  // The legend, in a row under the axis title.
  const ly = height - 12;
  const legend: [string, string][] = [
    ['episode return', `<line x1="0" x2="18" y1="-4" y2="-4" stroke="#9ecae1" stroke-width="1"/>`],
    [`mean of last ${curve.window}`, `<line x1="0" x2="18" y1="-4" y2="-4" stroke="#08519c" stroke-width="2.5"/>`],
    ['greedy evaluation', `<circle cx="9" cy="-4" r="5" fill="#ff7f0e"/>`],
  ];
  out.push(`<g class="legend" transform="translate(${m.left} ${ly})">`);
  legend.forEach(([label, mark], i) => {
    out.push(`<g transform="translate(${i * 170} 0)">${mark}<text x="24">${escapeXml(label)}</text></g>`);
  });
  out.push('</g>', '</svg>');
  return `${out.join('\n')}\n`;
}
