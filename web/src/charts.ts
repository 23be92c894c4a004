// Charts: uPlot for series over time, plain elements for bars. Each chart
// has a text title and, for screen readers, an aria-label summarising it.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom';

export const COLORS = { treatment: '#1f6feb', control: '#d97706', escalate: '#b42318' };

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  dash?: number[];
}

// A line chart of `series` over `x` (unix seconds when `time`, else plain
// numbers), as wide as its container.
export function lineChart(
  title: string,
  x: number[],
  series: Series[],
  opts: { time: boolean; stepped?: boolean; xLabel?: string; yLabel?: string; yMax?: number; summary: string },
): HTMLElement {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': `${title}. ${opts.summary}` });
  const figure = h('figure', { class: 'card' }, h('figcaption', {}, title), box);
  const paths = opts.stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined;
  const make = () => {
    const width = Math.max(260, box.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: opts.time }, y: opts.yMax === undefined ? {} : { range: [0, opts.yMax] } },
        axes: [
          { label: opts.xLabel, stroke: '#444', grid: { stroke: '#eee' } },
          { label: opts.yLabel, stroke: '#444', grid: { stroke: '#eee' } },
        ],
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            dash: s.dash,
            paths,
            points: { show: !opts.stepped },
          })),
        ],
      },
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      box,
    );
    new ResizeObserver(() => plot.setSize({ width: Math.max(260, box.clientWidth), height: 220 })).observe(box);
  };
  // uPlot needs the container's width: draw once it is in the document.
  requestAnimationFrame(make);
  return figure;
}

// Horizontal stacked bars: one row per label, a part per series.
export function barRows(
  title: string,
  rows: { label: string; parts: { name: string; value: number; color: string }[] }[],
): HTMLElement {
  const max = Math.max(1, ...rows.map((r) => r.parts.reduce((s, p) => s + p.value, 0)));
  const legendNames = rows[0]?.parts ?? [];
  return h(
    'figure',
    { class: 'card' },
    h('figcaption', {}, title),
    h(
      'div',
      { class: 'legend' },
      ...legendNames.map((p) => h('span', {}, h('i', { class: 'swatch', 'data-color': p.color }), p.name)),
    ),
    h(
      'dl',
      { class: 'bars' },
      ...rows.flatMap((r) => {
        const total = r.parts.reduce((s, p) => s + p.value, 0);
        const bar = h('dd', { title: r.parts.map((p) => `${p.name}: ${p.value}`).join(', ') });
        for (const p of r.parts) {
          const seg = h('span', { class: 'seg' });
          seg.style.width = `${(100 * p.value) / max}%`;
          seg.style.background = p.color;
          bar.appendChild(seg);
        }
        bar.appendChild(h('span', { class: 'bar-n' }, String(total)));
        return [h('dt', {}, r.label), bar];
      }),
    ),
  );
}

// Paints the legend swatches (colours set through the CSSOM, which the CSP allows).
export function paintSwatches(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('.swatch[data-color]').forEach((el) => {
    el.style.background = el.dataset.color ?? '';
  });
}

// A forest plot: per row a difference with its confidence interval, around
// a zero line, as SVG built element by element (labels as text nodes).
export function forestPlot(
  title: string,
  rows: { label: string; diff: number | null; low: number | null; high: number | null }[],
  unit: (v: number) => string,
): HTMLElement {
  const NS = 'http://www.w3.org/2000/svg';
  const svgEl = (tag: string, attrs: Record<string, string | number>, text?: string) => {
    const el = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const width = 560;
  const left = 210;
  const right = 20;
  const rowH = 34;
  const height = rows.length * rowH + 40;
  const extent = Math.max(0.01, ...rows.flatMap((r) => [r.low, r.high, r.diff].filter((v): v is number => v !== null).map(Math.abs)));
  const x = (v: number) => left + ((v + extent) / (2 * extent)) * (width - left - right);
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, class: 'forest', role: 'img', 'aria-label': title });
  svg.appendChild(svgEl('line', { x1: x(0), x2: x(0), y1: 8, y2: height - 28, stroke: '#888', 'stroke-dasharray': '4 3' }));
  rows.forEach((r, i) => {
    const y = 24 + i * rowH;
    svg.appendChild(svgEl('text', { x: 0, y: y + 4, 'font-size': 13, fill: '#1d2330' }, r.label));
    if (r.diff === null) {
      svg.appendChild(svgEl('text', { x: x(0) + 6, y: y + 4, 'font-size': 12, fill: '#5b6475' }, 'not enough data'));
      return;
    }
    if (r.low !== null && r.high !== null) {
      svg.appendChild(svgEl('line', { x1: x(r.low), x2: x(r.high), y1: y, y2: y, stroke: COLORS.treatment, 'stroke-width': 2 }));
    }
    svg.appendChild(svgEl('circle', { cx: x(r.diff), cy: y, r: 5, fill: COLORS.treatment }));
  });
  for (const v of [-extent, 0, extent]) {
    svg.appendChild(svgEl('text', { x: x(v), y: height - 10, 'font-size': 12, fill: '#5b6475', 'text-anchor': v < 0 ? 'start' : v > 0 ? 'end' : 'middle' }, v === 0 ? '0' : unit(v)));
  }
  return h('figure', { class: 'card' }, h('figcaption', {}, title), svg);
}
