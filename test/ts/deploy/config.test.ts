import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isLocalNetwork, loadNetworkConfig, parseNetworkConfig } from "../../../scripts/deploy/pipeline.ts";
import { readState, statePath } from "../../../scripts/deploy/state.ts";

const dir = mkdtempSync(join(tmpdir(), "dv-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(network: string, value: unknown): void {
  mkdirSync(join(dir, "config"), { recursive: true });
  writeFileSync(join(dir, "config", `${network}.json`), JSON.stringify(value));
}

const A = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const complete = {
  accounts: { keeper: A(1), treasurer: A(2), finance: A(3), risk: A(4) },
  safe: { owners: [A(5), A(6), A(7)], threshold: 2 },
  external: { tokens: { weth: A(8), wbtc: A(9), usdc: A(10) }, feeds: { weth: A(11), wbtc: A(12) } },
};

describe("network kind", () => {
  it("treats the embedded chain and literal localhost URLs as local, anything else as real", () => {
    expect(isLocalNetwork({ type: "edr-simulated" })).toBe(true);
    expect(isLocalNetwork({ type: "http", url: "http://127.0.0.1:8545" })).toBe(true);
    expect(isLocalNetwork({ type: "http", url: "http://localhost:9999" })).toBe(true);
    expect(isLocalNetwork({ type: "http", url: "https://sepolia.example.org/v3/key" })).toBe(false);
    expect(
      isLocalNetwork({ type: "http", url: { _type: "ConfigurationVariable", name: "SEPOLIA_RPC_URL" } }),
    ).toBe(false);
    expect(isLocalNetwork({ type: "http", url: "not a url" })).toBe(false);
  });
});

describe("deployments/config/<network>.json", () => {
  it("is optional on a local network (defaults: wallet clients, 2-of-3 Safe, local preset)", () => {
    const cfg = loadNetworkConfig(dir, "localhost", true);
    expect(cfg.mode).toBe("local");
    expect(cfg.safe).toBeUndefined();
    expect(cfg.governance.tokenSupply).toBe(1_000_000n * 10n ** 18n);
  });

  it("is required on a real network, and the error names the file and what it must contain", () => {
    expect(() => loadNetworkConfig(dir, "sepolia", false)).toThrow(
      /config\/sepolia\.json is missing: network "sepolia" is not local.*external\.tokens\.\{weth,wbtc,usdc\}/u,
    );
  });

  it("names every missing field", () => {
    writeConfig("partial", {
      accounts: complete.accounts,
      external: { tokens: { weth: A(8), wbtc: A(9) }, feeds: complete.external.feeds },
    });
    let message = "";
    try {
      loadNetworkConfig(dir, "partial", false);
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toContain("partial.json");
    expect(message).toContain("missing field safe");
    expect(message).toContain("missing field external.tokens.usdc");
    expect(message).not.toContain("external.tokens.weth");
  });

  it("rejects malformed addresses, a threshold above the owner count, duplicate owners and bad JSON", () => {
    expect(() =>
      parseNetworkConfig(
        { ...complete, accounts: { ...complete.accounts, keeper: "0x1234" } },
        "external",
        "f",
      ),
    ).toThrow(/accounts\.keeper: expected a 20-byte hex address/u);
    expect(() =>
      parseNetworkConfig({ ...complete, safe: { owners: [A(5)], threshold: 2 } }, "external", "f"),
    ).toThrow(/safe\.threshold must be <= the number of owners/u);
    expect(() =>
      parseNetworkConfig({ ...complete, safe: { owners: [A(5), A(5)], threshold: 1 } }, "external", "f"),
    ).toThrow(/safe\.owners must be distinct/u);
    expect(() =>
      parseNetworkConfig({ ...complete, governance: { preset: "moon" } }, "external", "f"),
    ).toThrow(/governance\.preset/u);
    mkdirSync(join(dir, "config"), { recursive: true });
    writeFileSync(join(dir, "config", "broken.json"), "{ not json");
    expect(() => loadNetworkConfig(dir, "broken", false)).toThrow(/broken\.json is not valid JSON/u);
  });

  it("accepts a complete config and the committed example", async () => {
    const cfg = parseNetworkConfig(complete, "external", "f");
    expect(cfg.mode).toBe("external");
    if (cfg.mode !== "external") throw new Error("mode");
    expect(cfg.external.tokens.usdc).toBe("0x000000000000000000000000000000000000000A");
    expect(cfg.safe.saltNonce).toBe(0);
    const example = loadNetworkConfig("deployments", "example.external", false);
    expect(example.mode).toBe("external");
    expect(example.governance.preset).toBe("testnet");
  });
});

describe("state file", () => {
  it("rejects a file that is not a deployment state, naming the field", () => {
    const path = statePath(dir, "junk");
    writeFileSync(path, JSON.stringify({ format: "deltavault-deployment/1", chainId: "x" }));
    expect(() => readState(path)).toThrow(/junk\.json is not a deployment state file: .*chainId/u);
    expect(readState(statePath(dir, "absent"))).toBeUndefined();
    expect(() => statePath(dir, "../escape")).toThrow(/invalid network name/u);
  });
});
