/**
 * The main job's learning-curve picture and CSV (examples/plot/learning-curve.ts): every
 * point where it belongs, the threshold line at its value, one marker per evaluation,
 * text escaped, and the CSV's numbers the picture's.
 */
import { describe, expect, it } from 'vitest';
import { learningCurveCsv, learningCurveSvg, movingMean, ticks, type LearningCurve } from '../examples/plot/learning-curve.js';

const curve: LearningCurve = {
  episodes: [
    { step: 20, value: 20 },
    { step: 60, value: 40 },
    { step: 160, value: 100 },
    { step: 660, value: 500 },
  ],
  evaluations: [
    { step: 500, value: 250 },
    { step: 1000, value: 480 },
  ],
  window: 2,
  threshold: { value: 475, label: 'solved <475>' },
};

/** The `points` of the polyline with `cls`, as numbers. */
function polyline(svg: string, cls: string): [number, number][] {
  const m = new RegExp(`<polyline class="${cls}"[^>]* points="([^"]*)"`).exec(svg);
  if (m === null) throw new Error(`no polyline ${cls}`);
  return m[1].split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

describe('learning curve', () => {
  const svg = learningCurveSvg(curve, { title: 'CartPole & DQN', width: 656, height: 400, yMax: 500 });
  // With these margins: x = 56 + step / 1000 · 584, y = 36 + 300 − value / 500 · 300.
  const px = (step: number) => 56 + (step / 1000) * 584;
  const py = (value: number) => 336 - (value / 500) * 300;

  it('moving mean over the window', () => {
    expect(movingMean(curve).map((p) => p.value)).toEqual([20, 30, 70, 300]);
  });

  it('draws every episode and the moving mean where they belong', () => {
    const eps = polyline(svg, 'episodes');
    expect(eps).toHaveLength(4);
    eps.forEach(([x, y], i) => {
      expect(x).toBeCloseTo(px(curve.episodes[i].step), 0);
      expect(y).toBeCloseTo(py(curve.episodes[i].value), 0);
    });
    expect(polyline(svg, 'moving-mean').map(([, y]) => Math.round(y))).toEqual([20, 30, 70, 300].map((v) => Math.round(py(v))));
  });

  it('draws the threshold line at its value, with its label escaped', () => {
    const line = /<line class="threshold" x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)"/.exec(svg);
    expect(line).not.toBeNull();
    expect(Number(line?.[3])).toBeCloseTo(py(475), 0);
    expect(line?.[3]).toBe(line?.[4]);
    expect(svg).toContain('solved &#60;475&#62;');
    expect(svg).toContain('CartPole &#38; DQN');
    expect(svg).not.toMatch(/<475>|& DQN/);
  });

  it('marks each evaluation', () => {
    const group = /<g class="evaluations"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    const circles = [...group.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((c) => [Number(c[1]), Number(c[2])]);
    expect(circles).toHaveLength(2);
    expect(circles[1][0]).toBeCloseTo(px(1000), 0);
    expect(circles[1][1]).toBeCloseTo(py(480), 0);
  });

  it('is one well-formed svg element', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    const opened = (svg.match(/<g[ >]/g) ?? []).length;
    expect((svg.match(/<\/g>/g) ?? []).length).toBe(opened);
  });

  it('ticks at 1, 2 or 5 times a power of ten', () => {
    expect(ticks(500, 5)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(ticks(50_000, 6)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(ticks(37, 4)).toEqual([0, 10, 20, 30]);
  });

  it('writes the same numbers as CSV, in env-step order', () => {
    const lines = learningCurveCsv(curve).trim().split('\n');
    expect(lines[0]).toBe('env_step,kind,episode,return,moving_mean_2');
    expect(lines.slice(1)).toEqual([
      '20,episode,1,20,20',
      '60,episode,2,40,30',
      '160,episode,3,100,70',
      '500,evaluation,,250,',
      '660,episode,4,500,300',
      '1000,evaluation,,480,',
    ]);
  });
});
