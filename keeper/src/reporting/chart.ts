/**
 * A minimal raster chart renderer for backtest reports: line charts (many points per pixel are
 * reduced to per-column min/max), shaded bands, scatter plots with markers, axes with "nice" ticks
 * (numbers or UTC dates), a title, axis labels and a legend, drawn with the built-in 5×7 font and
 * encoded as PNG (./png.ts). No native dependencies.
 */
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from "./font.ts";
import { encodePng } from "./png.ts";

export type Rgb = readonly [number, number, number];

export type Canvas = { width: number; height: number; data: Uint8Array };

export function createCanvas(width: number, height: number, bg: Rgb = [255, 255, 255]): Canvas {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = bg[0];
    data[3 * i + 1] = bg[1];
    data[3 * i + 2] = bg[2];
  }
  return { width, height, data };
}

/** Blends `c` over pixel (x, y) with opacity `a` (1 = opaque). */
export function plot(cv: Canvas, x: number, y: number, c: Rgb, a = 1): void {
  const xi = Math.round(x);
  const yi = Math.round(y);
  if (xi < 0 || yi < 0 || xi >= cv.width || yi >= cv.height) return;
  const o = 3 * (yi * cv.width + xi);
  for (let k = 0; k < 3; k++)
    cv.data[o + k] = Math.round((cv.data[o + k] as number) * (1 - a) + (c[k] as number) * a);
}

export function fillRect(cv: Canvas, x0: number, y0: number, x1: number, y1: number, c: Rgb, a = 1): void {
  const xa = Math.max(0, Math.round(Math.min(x0, x1)));
  const xb = Math.min(cv.width - 1, Math.round(Math.max(x0, x1)));
  const ya = Math.max(0, Math.round(Math.min(y0, y1)));
  const yb = Math.min(cv.height - 1, Math.round(Math.max(y0, y1)));
  for (let y = ya; y <= yb; y++) for (let x = xa; x <= xb; x++) plot(cv, x, y, c, a);
}

/** A line of `width` pixels (square pen), Bresenham. */
export function line(cv: Canvas, x0: number, y0: number, x1: number, y1: number, c: Rgb, width = 1): void {
  let xa = Math.round(x0);
  let ya = Math.round(y0);
  const xb = Math.round(x1);
  const yb = Math.round(y1);
  const dx = Math.abs(xb - xa);
  const dy = -Math.abs(yb - ya);
  const sx = xa < xb ? 1 : -1;
  const sy = ya < yb ? 1 : -1;
  let err = dx + dy;
  const r0 = -Math.floor((width - 1) / 2);
  const r1 = Math.ceil((width - 1) / 2);
  for (let guard = 0; guard < 100_000; guard++) {
    for (let oy = r0; oy <= r1; oy++) for (let ox = r0; ox <= r1; ox++) plot(cv, xa + ox, ya + oy, c);
    if (xa === xb && ya === yb) break;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      xa += sx;
    }
    if (e2 <= dx) {
      err += dx;
      ya += sy;
    }
  }
}

/** Text width in pixels at `scale`. */
export function textWidth(s: string, scale = 1): number {
  return s.length === 0 ? 0 : (s.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

/** Draws `s` with its top-left corner at (x, y). */
export function text(cv: Canvas, x: number, y: number, s: string, c: Rgb, scale = 1): void {
  let cx = Math.round(x);
  const cy = Math.round(y);
  for (const ch of s) {
    const g = glyph(ch);
    for (let col = 0; col < GLYPH_WIDTH; col++) {
      const bits = g[col] as number;
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        if ((bits >> row) & 1)
          fillRect(
            cv,
            cx + col * scale,
            cy + row * scale,
            cx + col * scale + scale - 1,
            cy + row * scale + scale - 1,
            c,
          );
      }
    }
    cx += (GLYPH_WIDTH + 1) * scale;
  }
}

export function marker(cv: Canvas, x: number, y: number, shape: MarkerShape, c: Rgb, r = 4): void {
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const inside =
        shape === "square"
          ? true
          : shape === "circle"
            ? dx * dx + dy * dy <= r * r + 1
            : shape === "diamond"
              ? Math.abs(dx) + Math.abs(dy) <= r
              : dy >= -r && Math.abs(dx) <= (dy + r) / 2; // triangle
      if (inside) plot(cv, x + dx, y + dy, c);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ticks and formats

/** "Nice" tick values covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) return [];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const m = raw / mag;
  const step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * mag;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
    out.push(k === 0 ? 0 : k * step);
  return out;
}

/** Compact number: 1.25M, 350k, 12.5, 0.25, -3.1B. */
export function formatCompact(x: number): string {
  const a = Math.abs(x);
  const trim = (s: string) => (s.includes(".") ? s.replace(/\.?0+$/, "") : s);
  if (a >= 1e9) return `${trim((x / 1e9).toFixed(2))}B`;
  if (a >= 1e6) return `${trim((x / 1e6).toFixed(2))}M`;
  if (a >= 1e4) return `${trim((x / 1e3).toFixed(1))}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 1) return trim(x.toFixed(2));
  if (a === 0) return "0";
  return trim(x.toPrecision(2));
}

const MONTH_MS = 30.44 * 86_400_000;

/** Date ticks at calendar boundaries (days, months, quarters, years) over [lo, hi] ms. */
export function timeTicks(lo: number, hi: number, count = 7): { value: number; label: string }[] {
  const span = hi - lo;
  const day = 86_400_000;
  const steps: { months: number; days: number }[] = [
    { months: 0, days: 1 },
    { months: 0, days: 2 },
    { months: 0, days: 7 },
    { months: 0, days: 14 },
    { months: 1, days: 0 },
    { months: 3, days: 0 },
    { months: 6, days: 0 },
    { months: 12, days: 0 },
    { months: 24, days: 0 },
  ];
  const st = steps.find((s) => (s.months > 0 ? s.months * MONTH_MS : s.days * day) * count >= span) ?? {
    months: 24,
    days: 0,
  };
  const out: { value: number; label: string }[] = [];
  const iso = (t: number) => new Date(t).toISOString();
  if (st.months === 0) {
    for (let t = Math.ceil(lo / (st.days * day)) * st.days * day; t <= hi; t += st.days * day)
      out.push({ value: t, label: iso(t).slice(0, 10) });
  } else {
    const d = new Date(lo);
    let y = d.getUTCFullYear();
    let m =
      Math.ceil((d.getUTCMonth() + (d.getUTCDate() > 1 || lo % day !== 0 ? 1 : 0)) / st.months) * st.months;
    for (;;) {
      const t = Date.UTC(y + Math.floor(m / 12), m % 12, 1);
      if (t > hi) break;
      if (t >= lo) out.push({ value: t, label: st.months >= 12 ? iso(t).slice(0, 4) : iso(t).slice(0, 7) });
      m += st.months;
      if (m >= 12 * 1000) break;
      if (m >= 12) {
        y += Math.floor(m / 12);
        m %= 12;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Charts

export type MarkerShape = "circle" | "square" | "triangle" | "diamond";

export type LineSeries = {
  name: string;
  color: Rgb;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
  width?: number;
};

export type BandSeries = {
  name: string;
  color: Rgb;
  xs: ArrayLike<number>;
  lo: ArrayLike<number>;
  hi: ArrayLike<number>;
  alpha?: number;
};

export type ScatterPoint = { x: number; y: number; label?: string };
export type ScatterSeries = {
  name: string;
  color: Rgb;
  shape: MarkerShape;
  points: ScatterPoint[];
  connect?: boolean;
};

export type ChartSpec = {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  xAxis: "time" | "number" | "log";
  lines?: LineSeries[];
  bands?: BandSeries[];
  scatter?: ScatterSeries[];
  /** Horizontal reference lines. */
  hlines?: { y: number; color: Rgb; label?: string }[];
  legendPosition?: "top-left" | "bottom-right" | "top-right" | "bottom-left";
  /** Fixed y range (values outside are drawn at the edge); default: the data's range. */
  yRange?: [number, number];
};

export const PALETTE: Record<string, Rgb> = {
  blue: [31, 119, 180],
  orange: [255, 127, 14],
  green: [44, 160, 44],
  red: [214, 39, 40],
  purple: [148, 103, 189],
  brown: [140, 86, 75],
  pink: [227, 119, 194],
  grey: [127, 127, 127],
  olive: [188, 189, 34],
  cyan: [23, 190, 207],
};

const INK: Rgb = [40, 40, 40];
const GRID: Rgb = [225, 225, 225];

/** Renders a chart to an RGB canvas. */
export function renderChart(spec: ChartSpec): Canvas {
  const W = spec.width ?? 1100;
  const H = spec.height ?? 560;
  const cv = createCanvas(W, H);
  const left = 84;
  const right = 24;
  const top = 52;
  const bottom = 58;
  const pw = W - left - right;
  const ph = H - top - bottom;

  // ---- data range
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  const logX = spec.xAxis === "log";
  const tx = (x: number) => (logX ? Math.log10(x) : x);
  const seeX = (x: number) => {
    if (!Number.isFinite(x) || (logX && x <= 0)) return;
    x0 = Math.min(x0, tx(x));
    x1 = Math.max(x1, tx(x));
  };
  const seeY = (y: number) => {
    if (!Number.isFinite(y)) return;
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  };
  for (const s of spec.lines ?? [])
    for (let i = 0; i < s.xs.length; i++)
      if (Number.isFinite(s.ys[i] as number)) {
        seeX(s.xs[i] as number);
        seeY(s.ys[i] as number);
      }
  for (const b of spec.bands ?? [])
    for (let i = 0; i < b.xs.length; i++) {
      if (!Number.isFinite(b.lo[i] as number)) continue;
      seeX(b.xs[i] as number);
      seeY(b.lo[i] as number);
      seeY(b.hi[i] as number);
    }
  for (const s of spec.scatter ?? [])
    for (const p of s.points) {
      seeX(p.x);
      seeY(p.y);
    }
  for (const h of spec.hlines ?? []) seeY(h.y);
  if (!Number.isFinite(x0)) {
    x0 = 0;
    x1 = 1;
  }
  if (!Number.isFinite(y0)) {
    y0 = 0;
    y1 = 1;
  }
  if (x1 === x0) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  if (y1 === y0) {
    y0 -= Math.abs(y0) * 0.1 || 1;
    y1 += Math.abs(y1) * 0.1 || 1;
  }
  if (spec.yRange !== undefined) [y0, y1] = spec.yRange;
  const padY = (y1 - y0) * 0.05;
  y0 -= padY;
  y1 += padY;
  if (spec.xAxis !== "time") {
    const padX = (x1 - x0) * 0.04;
    x0 -= padX;
    x1 += padX;
  }
  const px = (x: number) => left + ((tx(x) - x0) / (x1 - x0)) * pw;
  const py = (y: number) => top + (1 - (Math.min(y1, Math.max(y0, y)) - y0) / (y1 - y0)) * ph;

  // ---- grid and axes
  const yt = niceTicks(y0, y1, 7);
  for (const v of yt) {
    const y = py(v);
    line(cv, left, y, left + pw, y, GRID);
    const lab = formatCompact(v);
    text(cv, left - 8 - textWidth(lab), y - 3, lab, INK);
  }
  const xticks: { value: number; label: string }[] =
    spec.xAxis === "time"
      ? timeTicks(x0, x1, 8)
      : logX
        ? (() => {
            const out: { value: number; label: string }[] = [];
            for (let e = Math.floor(x0); e <= Math.ceil(x1); e++)
              for (const m of [1, 2, 5]) {
                const v = m * 10 ** e;
                if (Math.log10(v) >= x0 && Math.log10(v) <= x1)
                  out.push({ value: v, label: formatCompact(v) });
              }
            return out;
          })()
        : niceTicks(x0, x1, 8).map((v) => ({ value: v, label: formatCompact(v) }));
  for (const t of xticks) {
    const x = px(t.value);
    line(cv, x, top, x, top + ph, GRID);
    line(cv, x, top + ph, x, top + ph + 4, INK);
    text(cv, x - textWidth(t.label) / 2, top + ph + 9, t.label, INK);
  }
  if (y0 < 0 && y1 > 0) line(cv, left, py(0), left + pw, py(0), [170, 170, 170]);
  line(cv, left, top, left, top + ph, INK);
  line(cv, left, top + ph, left + pw, top + ph, INK);

  // ---- bands
  for (const b of spec.bands ?? []) {
    const a = b.alpha ?? 0.25;
    const cols = new Map<number, [number, number]>();
    for (let i = 0; i < b.xs.length; i++) {
      const lo = b.lo[i] as number;
      const hi = b.hi[i] as number;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
      const x = Math.round(px(b.xs[i] as number));
      const cur = cols.get(x);
      const ya = py(hi);
      const yb = py(lo);
      cols.set(x, cur === undefined ? [ya, yb] : [Math.min(cur[0], ya), Math.max(cur[1], yb)]);
    }
    for (const [x, [ya, yb]] of cols)
      for (let y = Math.round(ya); y <= Math.round(yb); y++) plot(cv, x, y, b.color, a);
  }
  for (const h of spec.hlines ?? []) {
    const y = py(h.y);
    for (let x = left; x < left + pw; x += 6) line(cv, x, y, Math.min(x + 3, left + pw), y, h.color);
    if (h.label !== undefined) text(cv, left + pw - textWidth(h.label) - 4, y - 10, h.label, h.color);
  }

  // ---- lines: per pixel column, the min/max of the points in it, joined column to column
  for (const s of spec.lines ?? []) {
    const w = s.width ?? 2;
    let prev: [number, number] | undefined;
    let col = Number.NaN;
    let lo = 0;
    let hi = 0;
    let first = 0;
    let last = 0;
    const flush = () => {
      if (Number.isNaN(col)) return;
      if (prev !== undefined) line(cv, prev[0], prev[1], col, first, s.color, w);
      line(cv, col, lo, col, hi, s.color, w);
      prev = [col, last];
    };
    for (let i = 0; i < s.xs.length; i++) {
      const yv = s.ys[i] as number;
      if (!Number.isFinite(yv)) {
        flush();
        col = Number.NaN;
        prev = undefined;
        continue;
      }
      const x = Math.round(px(s.xs[i] as number));
      const y = py(yv);
      if (x !== col) {
        flush();
        col = x;
        lo = y;
        hi = y;
        first = y;
      }
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
      last = y;
    }
    flush();
  }

  // ---- scatter
  for (const s of spec.scatter ?? []) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (s.connect === true)
      for (let i = 1; i < pts.length; i++) {
        const a = pts[i - 1] as ScatterPoint;
        const b = pts[i] as ScatterPoint;
        line(cv, px(a.x), py(a.y), px(b.x), py(b.y), s.color, 1);
      }
    for (const p of pts) {
      marker(cv, px(p.x), py(p.y), s.shape, s.color, 5);
      if (p.label !== undefined) text(cv, px(p.x) + 8, py(p.y) - 10, p.label, INK);
    }
  }

  // ---- labels, title, legend
  text(cv, left, 14, spec.title, INK, 2);
  text(cv, left + pw / 2 - textWidth(spec.xLabel) / 2, H - 20, spec.xLabel, INK);
  text(cv, 8, top - 16, spec.yLabel, INK);
  const entries: { name: string; color: Rgb; kind: "line" | "band" | MarkerShape }[] = [
    ...(spec.lines ?? []).map((s) => ({ name: s.name, color: s.color, kind: "line" as const })),
    ...(spec.bands ?? []).map((b) => ({ name: b.name, color: b.color, kind: "band" as const })),
    ...(spec.scatter ?? []).map((s) => ({ name: s.name, color: s.color, kind: s.shape })),
  ];
  if (entries.length > 0) {
    const lw = Math.max(...entries.map((e) => textWidth(e.name))) + 40;
    const lh = entries.length * 14 + 8;
    const pos = spec.legendPosition ?? "top-left";
    const lx = pos.endsWith("left") ? left + 10 : left + pw - lw - 10;
    const ly = pos.startsWith("top") ? top + 10 : top + ph - lh - 10;
    fillRect(cv, lx, ly, lx + lw, ly + lh, [255, 255, 255], 0.9);
    line(cv, lx, ly, lx + lw, ly, [190, 190, 190]);
    line(cv, lx, ly + lh, lx + lw, ly + lh, [190, 190, 190]);
    line(cv, lx, ly, lx, ly + lh, [190, 190, 190]);
    line(cv, lx + lw, ly, lx + lw, ly + lh, [190, 190, 190]);
    entries.forEach((e, k) => {
      const y = ly + 8 + k * 14;
      if (e.kind === "line") line(cv, lx + 6, y + 3, lx + 26, y + 3, e.color, 2);
      else if (e.kind === "band") fillRect(cv, lx + 6, y - 1, lx + 26, y + 7, e.color, 0.35);
      else marker(cv, lx + 16, y + 3, e.kind, e.color, 4);
      text(cv, lx + 32, y, e.name, INK);
    });
  }
  return cv;
}

/** Renders `spec` as PNG bytes. */
export function chartPng(spec: ChartSpec): Uint8Array {
  const cv = renderChart(spec);
  return encodePng(cv.width, cv.height, cv.data);
}
