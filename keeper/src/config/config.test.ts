import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, parseGwei } from "viem";
import { ConfigError, loadConfig, parseConfig, type KeeperConfigInput } from "./index.ts";

const A = "0x1111111111111111111111111111111111111111";
const B = "0x2222222222222222222222222222222222222222";
const T = "0x3333333333333333333333333333333333333333";
const valid = (): KeeperConfigInput => ({
  rpcUrl: "http://127.0.0.1:8545",
  chainId: 31337,
  contracts: { vault: A, perpAdapter: B },
  underlyings: [{ symbol: "ETH", token: T }],
});

function issues(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error("expected a ConfigError");
}

describe("keeper config", () => {
  it("fills defaults: dry-run friendly timings, fee caps in wei, multicall reads", () => {
    const c = parseConfig(valid());
    expect(c.journal).toBe("keeper-journal.sqlite");
    expect(c.tickIntervalMs).toBe(5_000);
    expect(c.readMode).toBe("multicall");
    expect(c.execute.maxFeeGwei).toBe(parseGwei("300"));
    expect(c.execute.priorityFeeGwei).toBe(parseGwei("1"));
    expect(c.execute.feeBumpPct).toBe(12.5);
    expect(c.metrics.port).toBe(9464);
    expect(c.validation.maxAgeMs.spot).toBe(60_000);
    expect(c.contracts.vault).toBe(A);
    expect(c.contracts.optionsAdapter).toBeUndefined();
  });

  it("names the bad field's path", () => {
    expect(issues({ ...valid(), contracts: { vault: "0x12", perpAdapter: B } })).toEqual([
      "config.contracts.vault: expected a 20-byte hex address (0x + 40 hex digits)",
    ]);
    expect(issues({ ...valid(), rpcUrl: "ws://x" })[0]).toMatch(/^config\.rpcUrl: expected an http\(s\) URL/);
    expect(issues({ ...valid(), chainId: -1 })[0]).toMatch(/^config\.chainId: /);
    expect(issues({ ...valid(), underlyings: [{ symbol: "DOGE", token: T }] })[0]).toMatch(
      /^config\.underlyings\.0\.symbol: /,
    );
    expect(issues({ ...valid(), execute: { feeBumpPct: 10 } })[0]).toMatch(
      /^config\.execute\.feeBumpPct: must be ≥ 12\.5/,
    );
    expect(issues({ ...valid(), tickIntervalMs: 1.5 })[0]).toMatch(/^config\.tickIntervalMs: /);
    expect(
      issues({
        ...valid(),
        underlyings: [
          { symbol: "ETH", token: T },
          { symbol: "ETH", token: A },
        ],
      })[0],
    ).toMatch(/^config\.underlyings: each symbol at most once/);
  });

  it("spot venue: adapter and quoter together (checksummed), or neither (no spot legs)", () => {
    const lower = "0x44444444444444444444444444444444444444ab";
    const c = parseConfig({
      ...valid(),
      contracts: { vault: A, perpAdapter: B, spotAdapter: T, spotQuoter: lower },
    });
    expect(c.contracts.spotAdapter).toBe(T);
    expect(c.contracts.spotQuoter).toBe(getAddress(lower));
    expect(c.contracts.spotQuoter).not.toBe(lower);
    expect(parseConfig(valid()).contracts.spotAdapter).toBeUndefined();
    const alone =
      "config.contracts: spotAdapter and spotQuoter go together (set both for spot legs, or neither)";
    expect(issues({ ...valid(), contracts: { vault: A, perpAdapter: B, spotAdapter: T } })).toEqual([alone]);
    expect(issues({ ...valid(), contracts: { vault: A, perpAdapter: B, spotQuoter: T } })).toEqual([alone]);
    expect(
      issues({ ...valid(), contracts: { vault: A, perpAdapter: B, spotAdapter: "0x1", spotQuoter: T } }),
    ).toEqual(["config.contracts.spotAdapter: expected a 20-byte hex address (0x + 40 hex digits)"]);
  });

  it("hedging policy: regime-band by default; the others with their parameter, named when wrong", () => {
    expect(parseConfig(valid()).decide.policy).toEqual({ kind: "regime-band" });
    expect(
      parseConfig({ ...valid(), decide: { policy: { kind: "time", intervalHours: 24 } } }).decide.policy,
    ).toEqual({ kind: "time", intervalHours: 24 });
    expect(issues({ ...valid(), decide: { policy: { kind: "fixed-band" } } })[0]).toMatch(
      /^config\.decide\.policy\.band: /,
    );
    expect(issues({ ...valid(), decide: { policy: { kind: "time", intervalHours: 0 } } })[0]).toMatch(
      /^config\.decide\.policy\.intervalHours: /,
    );
    expect(issues({ ...valid(), decide: { policy: { kind: "sometimes" } } })[0]).toMatch(
      /^config\.decide\.policy\.kind: /,
    );
  });

  it("rejects unknown fields and reports every problem at once", () => {
    const got = issues({ ...valid(), chainId: "1", extra: true, contracts: { vault: A } });
    expect(got.some((l) => l.startsWith("config.chainId:"))).toBe(true);
    expect(got.some((l) => l.startsWith("config.contracts.perpAdapter:"))).toBe(true);
    expect(got.some((l) => l.startsWith("config: ") && l.includes("extra"))).toBe(true);
  });

  it("refuses keys and secrets in the config file without echoing them", () => {
    const secret = `0x${"ab".repeat(32)}`;
    for (const raw of [
      { ...valid(), privateKey: secret },
      { ...valid(), execute: { key: secret } },
      { ...valid(), feeds: { http: [{ source: "x", url: "http://x", apiSecret: secret }] } },
      { ...valid(), mnemonic: "test test" },
    ]) {
      const got = issues(raw);
      expect(got.join("\n")).toMatch(/never come from the config file; set DELTAVAULT_KEEPER_KEY/);
      expect(got.join("\n")).not.toContain(secret);
    }
  });

  it("loadConfig: unreadable file and invalid JSON are clear errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    expect(() => loadConfig(join(dir, "missing.json"))).toThrow(/cannot read .*missing\.json/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect(() => loadConfig(bad)).toThrow(/not valid JSON/);
    const ok = join(dir, "ok.json");
    writeFileSync(ok, JSON.stringify(valid()));
    expect(loadConfig(ok).chainId).toBe(31337);
  });
});
