import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  GLOBAL_FIELDS,
  UNDERLYING_FIELDS,
  formatLimitValue,
  nearest,
  parseLimitChange,
  parseLimitChanges,
  type LimitChange,
  type LimitParseError,
} from "../../../scripts/governance/limits.ts";

const WAD = 10n ** 18n;

function ok(text: string): LimitChange {
  const r = parseLimitChange(text);
  if (!r.ok) throw new Error(`expected "${text}" to parse: ${r.error.message}`);
  return r.value;
}

function err(text: unknown): LimitParseError {
  const r = parseLimitChange(text);
  if (r.ok)
    throw new Error(
      `expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(r.value, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))}`,
    );
  return r.error;
}

describe("parseLimitChange: good inputs", () => {
  it("per-underlying limits in the underlying's units (WAD)", () => {
    expect(ok("set WETH band to 25 ETH")).toMatchObject({
      kind: "underlying",
      asset: "WETH",
      field: "band",
      value: 25n * WAD,
    });
    expect(ok("set weth band to 25")).toMatchObject({ asset: "WETH", field: "band", value: 25n * WAD });
    expect(ok("SET ETH BAND TO 30WETH")).toMatchObject({ asset: "WETH", field: "band", value: 30n * WAD });
    expect(ok("set WBTC band to 0.5 BTC")).toMatchObject({ asset: "WBTC", value: WAD / 2n });
    expect(ok("set WBTC maxPerpPosition to 1.25 wbtc")).toMatchObject({
      field: "maxPerpPosition",
      value: (5n * WAD) / 4n,
    });
    expect(ok("set WETH target to -12.5 ETH")).toMatchObject({
      field: "targetDelta",
      value: -(25n * WAD) / 2n,
    });
    expect(ok("set WETH maxOptionLegSize to 1e3")).toMatchObject({
      field: "maxOptionLegSize",
      value: 1000n * WAD,
    });
    expect(ok("set WETH maxSpotLegSize to 0.000000000000000001 ETH")).toMatchObject({ value: 1n });
  });

  it("ratios, USD, counts", () => {
    expect(ok("set WETH minHedgeRatio to 50%")).toMatchObject({ field: "minHedgeRatio", value: WAD / 2n });
    expect(ok("set WETH maxHedgeRatio to 1.2")).toMatchObject({
      field: "maxHedgeRatio",
      value: (12n * WAD) / 10n,
    });
    expect(ok("set WETH maxHedgeRatio to 9000 bps")).toMatchObject({ value: (9n * WAD) / 10n });
    expect(ok("set WETH premiumBudgetPerWindow to 25,000 USD")).toMatchObject({ value: 25_000n * WAD });
    expect(ok("set WETH premiumBudget to $1_000_000.5")).toMatchObject({
      field: "premiumBudgetPerWindow",
      value: 1_000_000n * WAD + WAD / 2n,
    });
    expect(ok("set WETH maxOpenSeries to 12")).toMatchObject({ field: "maxOpenSeries", value: 12n });
  });

  it("global limits: bps, %, durations, USD tiers", () => {
    expect(ok("set slippage to 30 bps")).toEqual({
      kind: "global",
      field: "maxSlippageBps",
      value: 30n,
      unit: "bps",
      text: "set slippage to 30 bps",
    });
    expect(ok("set maxSlippageBps to 0.5%")).toMatchObject({ field: "maxSlippageBps", value: 50n });
    expect(ok("set oracleMaxAge to 2h")).toMatchObject({ field: "oracleMaxAge", value: 7_200n });
    expect(ok("set oracleMaxAge to 90 s")).toMatchObject({ value: 90n });
    expect(ok("set keeperCooldown to 1.5 min")).toMatchObject({ field: "keeperCooldown", value: 90n });
    expect(ok("set window to 1 d")).toMatchObject({ field: "window", value: 86_400n });
    expect(ok("set approvalExpiry to 1 week")).toMatchObject({ field: "approvalExpiry", value: 604_800n });
    expect(ok("set turnoverCap to 5e6 USD")).toMatchObject({
      field: "turnoverCapPerWindow",
      value: 5_000_000n * WAD,
    });
    expect(ok("set tier1 to 100000")).toMatchObject({ field: "tier1Notional", value: 100_000n * WAD });
    expect(ok("set tier2 to $2,000,000")).toMatchObject({ field: "tier2Notional", value: 2_000_000n * WAD });
    expect(ok("set oracleDeviation to 2%")).toMatchObject({ field: "oracleMaxDeviationBps", value: 200n });
    expect(ok("set greeksCacheMove to 75 bps")).toMatchObject({ field: "greeksCacheMaxMoveBps", value: 75n });
    expect(ok("  set   greeksCacheMaxAge\tto 10 minutes ")).toMatchObject({
      field: "greeksCacheMaxAge",
      value: 600n,
    });
  });

  it("venues and enable/disable", () => {
    const lower = "0x00000000000000000000000000000000000000aa";
    expect(ok(`allow venue ${lower}`)).toMatchObject({
      kind: "venue",
      adapter: "0x00000000000000000000000000000000000000AA",
      allowed: true,
    });
    expect(ok(`disallow venue ${lower}`)).toMatchObject({ kind: "venue", allowed: false });
    expect(ok("disable WBTC")).toMatchObject({ kind: "enabled", asset: "WBTC", value: false });
    expect(ok("enable eth")).toMatchObject({ kind: "enabled", asset: "WETH", value: true });
  });

  it("every field name and alias parses", () => {
    for (const spec of UNDERLYING_FIELDS) {
      for (const name of [spec.field, ...spec.aliases]) {
        expect(ok(`set WETH ${name} to 1`)).toMatchObject({ field: spec.field });
      }
    }
    for (const spec of GLOBAL_FIELDS) {
      for (const name of [spec.field, ...spec.aliases]) {
        expect(ok(`set ${name} to 1`)).toMatchObject({ field: spec.field });
      }
    }
  });

  it("several changes separated by ; or new lines", () => {
    const r = parseLimitChanges(
      "set WETH band to 30 ETH;\nset slippage to 40 bps\n\nallow venue 0x00000000000000000000000000000000000000bb",
    );
    expect(r.ok && r.value.map((c) => c.kind)).toEqual(["underlying", "global", "venue"]);
    const bad = parseLimitChanges("set WETH band to 30 ETH; set slipage to 4 bps");
    expect(bad.ok ? "" : bad.error.message).toBe(
      'change 2 ("set slipage to 4 bps"): unknown field "slipage" (did you mean "slippage"?)',
    );
    expect(parseLimitChanges(" ; \n ").ok).toBe(false);
  });
});

describe("parseLimitChange: bad inputs name the bad token", () => {
  it("misspellings suggest the nearest word", () => {
    expect(err("set WETH bnad to 25")).toEqual({
      code: "unknown-field",
      token: "bnad",
      suggestion: "band",
      message: 'unknown field "bnad" (did you mean "band"?)',
    });
    expect(err("set WTH band to 25")).toMatchObject({
      code: "unknown-asset",
      token: "WTH",
      message: 'unknown asset "WTH" (did you mean "WETH"?)',
    });
    expect(err("set slipage to 30 bps")).toMatchObject({ code: "unknown-field", suggestion: "slippage" });
    expect(err("sett WETH band to 25")).toMatchObject({
      code: "unknown-verb",
      message: 'unknown verb "sett" (did you mean "set"?)',
    });
    expect(err("make WETH band 25")).toMatchObject({
      code: "unknown-verb",
      message: 'unknown verb "make" (expected one of set, enable, disable, allow, disallow)',
    });
    expect(err("set DOGE band to 25")).toMatchObject({
      code: "unknown-asset",
      message: 'unknown asset "DOGE" (expected WETH or WBTC)',
    });
    expect(err("set WETH zzzzzz to 1")).toMatchObject({
      code: "unknown-field",
      message: 'unknown field "zzzzzz"',
    });
  });

  it("a field in the wrong scope says how to write it", () => {
    expect(err("set WETH slippage to 30")).toMatchObject({
      code: "wrong-scope",
      message: expect.stringContaining('write "set slippage to …"'),
    });
    expect(err("set band to 30")).toMatchObject({
      code: "wrong-scope",
      message: expect.stringContaining('"set WETH band to …"'),
    });
  });

  it("units must fit the field", () => {
    expect(err("set WETH band to 25 BTC")).toMatchObject({
      code: "bad-unit",
      token: "BTC",
      message: 'unit "BTC" does not fit WETH band (use ETH, WETH)',
    });
    expect(err("set slippage to 30 s")).toMatchObject({
      code: "bad-unit",
      message: 'unit "s" does not fit maxSlippageBps (use bps, %)',
    });
    expect(err("set oracleMaxAge to 5 bps")).toMatchObject({ code: "bad-unit" });
    expect(err("set WETH premiumBudget to 5 ETH")).toMatchObject({ code: "bad-unit" });
    expect(err("set WETH maxOpenSeries to 5 ETH")).toMatchObject({ code: "bad-unit" });
    expect(err("set tier1 to $5 USD")).toMatchObject({ code: "bad-unit" });
  });

  it("numbers must be exact in the field's unit and fit its Solidity type", () => {
    expect(err("set slippage to 0.25 bps")).toMatchObject({
      code: "not-exact",
      message: "maxSlippageBps must be a whole number of bps",
    });
    expect(err("set oracleMaxAge to 1.5 s")).toMatchObject({ code: "not-exact" });
    expect(err("set WETH maxOpenSeries to 2.5")).toMatchObject({ code: "not-exact" });
    expect(err("set WETH band to 0.0000000000000000001")).toMatchObject({ code: "not-exact" });
    expect(err("set slippage to 70000")).toMatchObject({
      code: "out-of-range",
      message: "maxSlippageBps = 70000 does not fit uint16",
    });
    expect(err("set WETH maxOpenSeries to 256")).toMatchObject({ code: "out-of-range" });
    expect(err("set WETH band to -1")).toMatchObject({
      code: "out-of-range",
      message: expect.stringContaining("must not be negative"),
    });
    expect(err("set WETH target to 1e30")).toMatchObject({
      code: "out-of-range",
      message: expect.stringContaining("int128"),
    });
    expect(err("set WETH band to ten")).toMatchObject({ code: "bad-number", token: "ten" });
    expect(err("set WETH band to 1,5")).toMatchObject({ code: "bad-number", token: "1,5" });
    expect(err("set WETH band to 1e999")).toMatchObject({ code: "bad-number" });
  });

  it("syntax, addresses, non-strings", () => {
    expect(err("set WETH band 25")).toMatchObject({
      code: "syntax",
      token: "25",
      message: 'expected "to" after "band", got "25"',
    });
    expect(err("set WETH band to")).toMatchObject({ code: "syntax" });
    expect(err("set WETH band to 25 ETH please")).toMatchObject({ code: "syntax", token: "please" });
    expect(err("set WETH band to 25ETH ETH")).toMatchObject({ code: "syntax" });
    expect(err("set")).toMatchObject({ code: "syntax" });
    expect(err("set WETH")).toMatchObject({ code: "syntax" });
    expect(err("allow 0x00000000000000000000000000000000000000aa")).toMatchObject({ code: "syntax" });
    expect(err("allow venue 0x1234")).toMatchObject({ code: "bad-address", token: "0x1234" });
    expect(err("allow venue 0x00000000000000000000000000000000000000aA")).toMatchObject({
      code: "bad-address",
      message: expect.stringContaining("checksum"),
    });
    expect(err("allow venue 0x0000000000000000000000000000000000000000")).toMatchObject({
      code: "bad-address",
    });
    expect(err("enable")).toMatchObject({ code: "syntax" });
    expect(err("enable SOL")).toMatchObject({ code: "unknown-asset" });
    expect(err("")).toMatchObject({ code: "empty" });
    expect(err(42)).toMatchObject({ code: "invalid-input" });
    expect(err(undefined)).toMatchObject({ code: "invalid-input" });
    expect(err("x".repeat(2_001))).toMatchObject({ code: "invalid-input" });
  });

  it("never throws and always returns a typed result, whatever the input", () => {
    const codes = new Set([
      "invalid-input",
      "empty",
      "unknown-verb",
      "unknown-asset",
      "unknown-field",
      "wrong-scope",
      "syntax",
      "bad-number",
      "bad-unit",
      "not-exact",
      "out-of-range",
      "bad-address",
    ]);
    const word = fc.constantFrom(
      "set",
      "WETH",
      "WBTC",
      "band",
      "to",
      "slippage",
      "25",
      "-3.5e2",
      "ETH",
      "%",
      "bps",
      "2h",
      "$5",
      "1,000",
      "allow",
      "venue",
      "0x00000000000000000000000000000000000000aa",
      "enable",
      "",
      "1e80",
      "tier1",
    );
    const inputs = fc.oneof(
      fc.string(),
      fc.string({ unit: "grapheme", maxLength: 80 }),
      fc.array(word, { maxLength: 7 }).map((ws) => ws.join(" ")),
      fc.anything(),
    );
    fc.assert(
      fc.property(inputs, (input) => {
        const r = parseLimitChange(input);
        if (r.ok) {
          expect(["underlying", "enabled", "global", "venue"]).toContain(r.value.kind);
          if ("value" in r.value && typeof r.value.value === "bigint")
            expect(r.value.value).toBeTypeOf("bigint");
        } else {
          expect(codes.has(r.error.code)).toBe(true);
          expect(r.error.message.length).toBeGreaterThan(0);
        }
        const many = parseLimitChanges(input);
        expect(typeof many.ok).toBe("boolean");
      }),
      { numRuns: 2_000 },
    );
  });

  it("parsed values round-trip through the formatter", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), (v) => {
        const text = formatLimitValue(v, "asset", "WETH"); // "<decimal> ETH"
        const back = ok(`set WETH band to ${text}`);
        expect(back.kind === "underlying" && back.value).toBe(v);
      }),
      { numRuns: 300 },
    );
    expect(formatLimitValue(3_600n, "seconds")).toBe("3600 s (1h)");
    expect(formatLimitValue(WAD / 4n, "ratio")).toBe("25%");
    expect(formatLimitValue(1_234_567n * WAD, "usd")).toBe("1,234,567 USD");
    expect(formatLimitValue(-5n * WAD, "asset", "WBTC")).toBe("-5 BTC");
    expect(nearest("qqqq", ["band"])).toBeUndefined();
  });
});
