import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress } from "viem";
import { openJournal } from "../journal/index.ts";
import { KeyError, signerFromEnv } from "./keys.ts";
import { main } from "./main.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

const dir = mkdtempSync(join(tmpdir(), "cli-"));
const cfg = (journal: string) => ({
  rpcUrl: "http://127.0.0.1:1",
  chainId: 31337,
  contracts: {
    vault: "0x1111111111111111111111111111111111111111",
    perpAdapter: "0x2222222222222222222222222222222222222222",
  },
  underlyings: [{ symbol: "ETH", token: "0x3333333333333333333333333333333333333333" }],
  journal,
});

describe("cli", () => {
  it("--help prints the usage (exit 0); no command → usage (exit 2); unknown commands and missing --config → exit 2", async () => {
    const a = io();
    expect(await main(["--help"], a.io)).toBe(0);
    expect(a.out.join("")).toMatch(/deltavault keeper <command> --config <file>/);
    expect(await main([], io().io)).toBe(2);
    const b = io();
    expect(await main(["keeper", "fly", "--config", "x"], b.io)).toBe(2);
    expect(b.err.join("")).toMatch(/unknown keeper command "fly"/);
    const c = io();
    expect(await main(["keeper", "run"], c.io)).toBe(2);
    expect(c.err.join("")).toMatch(/--config <file> is required/);
    const d = io();
    expect(await main(["keeper", "run", "--config", "x", "--bogus"], d.io)).toBe(2);
  });

  it("a malformed config exits 2 naming the field", async () => {
    const p = join(dir, "bad.json");
    writeFileSync(p, JSON.stringify({ ...cfg("j.sqlite"), chainId: "one" }));
    const r = io();
    expect(await main(["keeper", "status", "--config", p], r.io)).toBe(2);
    expect(r.err.join("")).toMatch(/config\.chainId: /);
  });

  it("journal prints entries newest first as JSON lines and validates --limit / --status", async () => {
    const jp = join(dir, "j.sqlite");
    const j = openJournal(jp);
    const vault = getAddress("0x1111111111111111111111111111111111111111");
    for (const e of [1n, 2n, 3n]) {
      const row = j.recordIntent({
        chainId: 31337,
        vault,
        epoch: e,
        snapshot: { e },
        legs: [],
        decision: {},
      });
      j.markLostRace(row.id, "test");
    }
    j.close();
    const p = join(dir, "ok.json");
    writeFileSync(p, JSON.stringify(cfg(jp)));
    const r = io();
    expect(await main(["keeper", "journal", "--config", p, "--limit", "2"], r.io)).toBe(0);
    const rows = r.out.map((l) => JSON.parse(l) as { epoch: string; status: string });
    expect(rows.map((x) => x.epoch)).toEqual(["3", "2"]);
    expect(rows.every((x) => x.status === "lost-race")).toBe(true);
    const bad = io();
    expect(await main(["keeper", "journal", "--config", p, "--limit", "0"], bad.io)).toBe(2);
    expect(bad.err.join("")).toMatch(/--limit must be a positive integer/);
    expect(await main(["keeper", "journal", "--config", p, "--status", "weird"], io().io)).toBe(2);
  });

  it("keys: from DELTAVAULT_KEEPER_KEY only; errors never echo the value", () => {
    expect(() => signerFromEnv({})).toThrow(/DELTAVAULT_KEEPER_KEY is not set/);
    const bad = "0x1234secretish";
    try {
      signerFromEnv({ DELTAVAULT_KEEPER_KEY: bad });
      throw new Error("expected KeyError");
    } catch (e) {
      expect(e).toBeInstanceOf(KeyError);
      expect((e as Error).message).not.toContain("secretish");
      expect((e as Error).message).toMatch(/malformed/);
    }
    const acct = signerFromEnv({ DELTAVAULT_KEEPER_KEY: `0x${"01".repeat(32)}` });
    expect(acct.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });
});
