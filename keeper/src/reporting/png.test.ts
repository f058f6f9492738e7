import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  chartPng,
  createCanvas,
  formatCompact,
  line,
  niceTicks,
  renderChart,
  text,
  timeTicks,
} from "./chart.ts";
import { crc32, encodePng, PNG_SIGNATURE } from "./png.ts";

function chunks(png: Uint8Array) {
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const out: { type: string; data: Uint8Array; crcOk: boolean }[] = [];
  let o = 8;
  while (o < png.length) {
    const len = v.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    const data = png.subarray(o + 8, o + 8 + len);
    const crc = v.getUint32(o + 8 + len);
    out.push({ type, data, crcOk: crc === crc32(png, o + 4, o + 8 + len) });
    o += 12 + len;
  }
  return out;
}

describe("PNG encoder", () => {
  it("CRC-32 matches the standard check value", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });
  it("writes signature, IHDR, IDAT, IEND with valid CRCs; IDAT inflates to the filtered scanlines", () => {
    const w = 3;
    const h = 2;
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    const png = encodePng(w, h, rgb);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"]);
    expect(cs.every((c) => c.crcOk)).toBe(true);
    const ihdr = new DataView(cs[0]!.data.buffer, cs[0]!.data.byteOffset, 13);
    expect([
      ihdr.getUint32(0),
      ihdr.getUint32(4),
      ihdr.getUint8(8),
      ihdr.getUint8(9),
      ihdr.getUint8(12),
    ]).toEqual([3, 2, 8, 2, 0]);
    const raw = inflateSync(cs[1]!.data);
    expect(raw.length).toBe(h * (1 + 3 * w));
    expect(raw[0]).toBe(0);
    expect(Array.from(raw.subarray(1, 10))).toEqual(Array.from(rgb.subarray(0, 9)));
    expect(Array.from(raw.subarray(11, 20))).toEqual(Array.from(rgb.subarray(9, 18)));
    // a corrupted byte breaks the CRC
    const bad = Uint8Array.from(png);
    bad[20] = (bad[20] as number) ^ 0xff;
    expect(chunks(bad)[0]!.crcOk).toBe(false);
  });
  it("rejects inconsistent sizes", () => {
    expect(() => encodePng(2, 2, new Uint8Array(11))).toThrow(/expected 12 bytes/);
    expect(() => encodePng(0, 2, new Uint8Array(0))).toThrow(/bad image size/);
  });
});

describe("chart rasterizer", () => {
  it("draws lines and text in ink over the background", () => {
    const cv = createCanvas(40, 20);
    line(cv, 0, 0, 39, 19, [255, 0, 0]);
    expect([cv.data[0], cv.data[1], cv.data[2]]).toEqual([255, 0, 0]);
    const o = 3 * (19 * 40 + 39);
    expect([cv.data[o], cv.data[o + 1]]).toEqual([255, 0]);
    const t = createCanvas(20, 10);
    text(t, 1, 1, "1", [0, 0, 0]);
    let ink = 0;
    for (let i = 0; i < t.data.length; i += 3) if (t.data[i] === 0) ink++;
    expect(ink).toBe(10); // the glyph "1" has 10 pixels (0x42, 0x7f, 0x40)
  });
  it("nice ticks, compact numbers and calendar ticks", () => {
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(-0.3, 0.3, 6)).toEqual(
      [-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3].map((x) => expect.closeTo(x, 12)),
    );
    expect(formatCompact(1_250_000)).toBe("1.25M");
    expect(formatCompact(35_000)).toBe("35k");
    expect(formatCompact(0.25)).toBe("0.25");
    const ticks = timeTicks(Date.UTC(2020, 0, 1), Date.UTC(2025, 11, 1), 7);
    expect(ticks.map((t) => t.label)).toEqual(["2020", "2021", "2022", "2023", "2024", "2025"]);
  });
  it("renders a chart with series, band, legend and encodes it", () => {
    const xs = Array.from({ length: 500 }, (_, i) => i);
    const spec = {
      title: "t",
      xLabel: "x",
      yLabel: "y",
      xAxis: "number" as const,
      lines: [{ name: "sin", color: [31, 119, 180] as const, xs, ys: xs.map((x) => Math.sin(x / 30)) }],
      bands: [
        { name: "band", color: [44, 160, 44] as const, xs, lo: xs.map(() => -0.5), hi: xs.map(() => 0.5) },
      ],
    };
    const cv = renderChart(spec);
    let blue = 0;
    for (let i = 0; i < cv.data.length; i += 3)
      if (cv.data[i] === 31 && cv.data[i + 1] === 119 && cv.data[i + 2] === 180) blue++;
    expect(blue).toBeGreaterThan(1000);
    const png = chartPng(spec);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(chunks(png).every((c) => c.crcOk)).toBe(true);
  });
});
