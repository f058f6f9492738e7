import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { keccak256, stringToBytes } from "viem";
import { CanonicalEncodingError, canonicalize, inputsHash, parseCanonical } from "./index.ts";

const snapshot = {
  vault: "0x00000000000000000000000000000000000000aa",
  epoch: 7n,
  market: {
    "spot|ETH|a": { kind: "spot", underlying: "ETH", source: "a", eventTime: 1748779200000, price: 3000.5 },
    "funding|ETH|perp": { kind: "funding", ratePerHour: -1.25e-5, intervalMs: 3600000 },
  },
  exposure: { net: 700, target: 0, band: 25 },
  flags: [true, false, null],
  note: "ünïcødé ✓",
};

describe("canonicalize", () => {
  it("writes sorted keys, no whitespace, tagged bigints", () => {
    expect(canonicalize({ b: 1, a: [true, null, "x"], c: 5n, d: { z: -0, y: 1e21 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"$bigint":"5"},"d":{"y":1e+21,"z":0}}',
    );
  });

  it("is independent of key insertion order (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.boolean())), (d) => {
        const reversed = Object.fromEntries(Object.entries(d).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(d));
      }),
    );
    const a = { x: { p: 1, q: 2 }, y: [{ m: 1, n: 2 }] };
    const b = { y: [{ n: 2, m: 1 }], x: { q: 2, p: 1 } };
    expect(canonicalize(a)).toBe(canonicalize(b));
    expect(inputsHash(a)).toBe(inputsHash(b));
  });

  it("keeps array order significant", () => {
    expect(canonicalize([1, 2])).not.toBe(canonicalize([2, 1]));
  });

  it("encodes bigints as tagged decimal strings, distinct from numbers and strings", () => {
    expect(canonicalize(-123456789012345678901234567890n)).toBe(
      '{"$bigint":"-123456789012345678901234567890"}',
    );
    expect(canonicalize(0n)).toBe('{"$bigint":"0"}');
    expect(canonicalize(5n)).not.toBe(canonicalize(5));
    expect(canonicalize(5n)).not.toBe(canonicalize("5"));
  });

  it("round-trips through parseCanonical, bigints included", () => {
    const text = canonicalize(snapshot);
    const back = parseCanonical(text);
    expect(back).toEqual(snapshot);
    expect(canonicalize(back)).toBe(text);
    expect(inputsHash(back)).toBe(inputsHash(snapshot));
  });

  it("round-trips arbitrary JSON-like values with bigints (property)", () => {
    const leaf = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
    );
    const key = fc.string().filter((k) => k !== "$bigint" && k !== "__proto__");
    const { tree } = fc.letrec((tie) => ({
      tree: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("tree")), fc.dictionary(key, tie("tree"))),
    }));
    fc.assert(
      fc.property(tree, (v) => {
        const text = canonicalize(v);
        expect(canonicalize(parseCanonical(text))).toBe(text);
      }),
    );
  });

  it.each([
    ["NaN", { a: Number.NaN }, "$.a", "non-finite number NaN"],
    ["Infinity", [1, Number.POSITIVE_INFINITY], "$[1]", "non-finite number Infinity"],
    ["-Infinity", { x: { y: Number.NEGATIVE_INFINITY } }, "$.x.y", "non-finite number -Infinity"],
    ["undefined property", { a: 1, b: undefined }, "$.b", "undefined"],
    ["undefined top level", undefined, "$", "undefined"],
    ["undefined element", [undefined], "$[0]", "undefined"],
    ["sparse hole", [1, , 3], "$[1]", "sparse array hole"], // eslint-disable-line no-sparse-arrays
    ["function", { f: () => 1 }, "$.f", "function is not encodable"],
    ["symbol value", { s: Symbol("x") }, "$.s", "symbol is not encodable"],
    ["Date", { t: new Date(0) }, "$.t", "got Date"],
    ["Map", new Map([[1, 2]]), "$", "got Map"],
    ["reserved key", { $bigint: "1" }, "$.$bigint", "reserved"],
    ["symbol key", { [Symbol("k")]: 1 }, "$", "symbol keys"],
  ])("rejects %s with a clear error", (_name, value, path, message) => {
    let err: unknown;
    try {
      canonicalize(value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CanonicalEncodingError);
    expect((err as CanonicalEncodingError).path).toBe(path);
    expect((err as CanonicalEncodingError).message).toContain(message);
    expect(() => inputsHash(value)).toThrow(CanonicalEncodingError);
  });

  it("rejects cycles but accepts shared (acyclic) references", () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    expect(() => canonicalize(cyc)).toThrow(/cycle/);
    const shared = { v: 1 };
    expect(canonicalize({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
  });

  it("accepts null-prototype objects like plain ones", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 2;
    o.a = 1;
    expect(canonicalize(o)).toBe('{"a":1,"b":2}');
  });
});

describe("inputsHash", () => {
  it("is keccak256 of the UTF-8 canonical text", () => {
    expect(inputsHash(snapshot)).toBe(keccak256(stringToBytes(canonicalize(snapshot))));
    // the UTF-8 bytes, not UTF-16: a non-ASCII string hashes its multi-byte encoding
    expect(inputsHash("é")).toBe(keccak256(new Uint8Array([0x22, 0xc3, 0xa9, 0x22])));
  });

  it("changes with any value change", () => {
    const h = inputsHash(snapshot);
    expect(inputsHash({ ...snapshot, epoch: 8n })).not.toBe(h);
    expect(inputsHash({ ...snapshot, exposure: { ...snapshot.exposure, net: 700.0000001 } })).not.toBe(h);
  });

  it("regression vector: the encoding of a pinned snapshot never changes", () => {
    expect(canonicalize(snapshot)).toBe(
      '{"epoch":{"$bigint":"7"},"exposure":{"band":25,"net":700,"target":0},"flags":[true,false,null],' +
        '"market":{"funding|ETH|perp":{"intervalMs":3600000,"kind":"funding","ratePerHour":-0.0000125},' +
        '"spot|ETH|a":{"eventTime":1748779200000,"kind":"spot","price":3000.5,"source":"a","underlying":"ETH"}},' +
        '"note":"ünïcødé ✓","vault":"0x00000000000000000000000000000000000000aa"}',
    );
    expect(inputsHash(snapshot)).toBe("0x158c0a78e90468c52dabde9b0b72f9c037033edacf9f726ea18d0f625217a361");
  });
});
