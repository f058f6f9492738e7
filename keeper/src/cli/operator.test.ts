/**
 * The operator surface added around the keeper commands: the keystore key source (files written by
 * hardhat-keystore's own encryption code), `keeper init-config` from a deployment file, and the
 * `backtest` subcommand.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { EventEmitter } from "node:events";
import { pathToFileURL } from "node:url";
import { getAddress, keccak256, toHex, type Address, type Hash } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { STATE_FORMAT, type DeploymentState } from "../../../scripts/deploy/state.ts";
import { loadConfig, parseConfig } from "../config/index.ts";
import {
  KEY_ENV,
  KEYSTORE_PASSWORD_ENV,
  KeyError,
  defaultKeystorePath,
  loadSigner,
  promptHidden,
  signerFromKeystore,
  type HiddenInput,
} from "./keys.ts";
import { keeperConfigFromDeployment } from "./initConfig.ts";
import { main } from "./main.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

const dir = mkdtempSync(join(tmpdir(), "cli-operator-"));

// --- keystore fixtures: written by the plugin's own code -------------------------------------------

type Encrypted = { iv: string; cypherText: string };
type Keystore = { secrets: Record<string, Encrypted> } & Record<string, unknown>;
type PluginEncryption = {
  createMasterKey: (a: { password: string }) => { salt: Uint8Array; masterKey: Uint8Array };
  createEmptyEncryptedKeystore: (a: { masterKey: Uint8Array; salt: Uint8Array }) => Keystore;
  addSecretToKeystore: (a: {
    masterKey: Uint8Array;
    encryptedKeystore: Keystore;
    key: string;
    value: string;
  }) => Keystore;
};

/** hardhat-keystore's encryption module, loaded here independently of keys.ts. */
async function pluginEncryption(): Promise<PluginEncryption> {
  const pkg = createRequire(import.meta.url).resolve("@nomicfoundation/hardhat-keystore/package.json");
  const url = pathToFileURL(join(dirname(pkg), "dist/src/internal/keystores/encryption.js")).href;
  return (await import(url)) as PluginEncryption;
}

const PASSWORD = "correct horse battery staple";
// Hardhat's public test accounts 1 and 2 (mnemonic "test test … junk").
const KEY1 = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const KEY2 = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const NOT_A_KEY = "hunter2-this-is-no-private-key";
let ksFile: string;
let ksJson: Keystore;

const expectKeyError = async (p: Promise<unknown>, re: RegExp): Promise<string> => {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(KeyError);
  const msg = (e as Error).message;
  expect(msg).toMatch(re);
  for (const secret of [PASSWORD, KEY1.slice(2), KEY2.slice(2), NOT_A_KEY]) {
    expect(msg.toLowerCase()).not.toContain(secret.toLowerCase());
  }
  return msg;
};

beforeAll(async () => {
  const enc = await pluginEncryption();
  const { salt, masterKey } = enc.createMasterKey({ password: PASSWORD });
  let ks = enc.createEmptyEncryptedKeystore({ masterKey, salt });
  for (const [key, value] of [
    [KEY_ENV, KEY1],
    ["KEY_NO_PREFIX", KEY2.slice(2)],
    ["NOT_A_KEY", NOT_A_KEY],
  ] as const) {
    ks = enc.addSecretToKeystore({ masterKey, encryptedKeystore: ks, key, value });
  }
  ksJson = ks;
  ksFile = join(dir, "keystore.json");
  writeFileSync(ksFile, JSON.stringify(ks, null, 2));
});

describe("keys: Hardhat keystore source", () => {
  it("reads the key back (password from the environment); a value without 0x is accepted", async () => {
    const env = { [KEYSTORE_PASSWORD_ENV]: PASSWORD };
    const a = await signerFromKeystore({ file: ksFile, env, prompt: null });
    expect(a.address).toBe(privateKeyToAccount(KEY1).address);
    const b = await loadSigner({
      source: "keystore",
      file: ksFile,
      keyName: "KEY_NO_PREFIX",
      env,
      prompt: null,
    });
    expect(b.address).toBe(privateKeyToAccount(KEY2).address);
    expect(b.address).not.toBe(a.address);
  });

  it("asks the prompt when the environment has no password; no password and no terminal is refused", async () => {
    const asked: string[] = [];
    const a = await signerFromKeystore({
      file: ksFile,
      env: {},
      prompt: async (q) => {
        asked.push(q);
        return PASSWORD;
      },
    });
    expect(a.address).toBe(privateKeyToAccount(KEY1).address);
    expect(asked).toEqual([`keystore password (${ksFile}): `]);
    await expectKeyError(
      signerFromKeystore({ file: ksFile, env: {}, prompt: null }),
      /no keystore password: set DELTAVAULT_KEYSTORE_PASSWORD or run on a terminal/,
    );
  });

  it("wrong password → KeyError naming the file, no secret in the message", async () => {
    const msg = await expectKeyError(
      signerFromKeystore({
        file: ksFile,
        env: { [KEYSTORE_PASSWORD_ENV]: "not the password" },
        prompt: null,
      }),
      /wrong password for keystore/,
    );
    expect(msg).toContain(ksFile);
    expect(msg).not.toContain("not the password");
  });

  it("a missing key is named (with the keys the file holds) before any password is needed", async () => {
    let asked = false;
    const msg = await expectKeyError(
      signerFromKeystore({
        file: ksFile,
        keyName: "SOME_OTHER_KEY",
        env: {},
        prompt: async () => {
          asked = true;
          return PASSWORD;
        },
      }),
      /key SOME_OTHER_KEY is not in keystore .*keystore\.json \(it holds DELTAVAULT_KEEPER_KEY, KEY_NO_PREFIX, NOT_A_KEY\)/,
    );
    expect(msg).toMatch(/npx hardhat keystore set SOME_OTHER_KEY/);
    expect(asked).toBe(false);
    await expectKeyError(
      signerFromKeystore({ file: ksFile, keyName: "bad-name!" }),
      /not a keystore key name/,
    );
  });

  it("a value that is not a private key is refused without printing it", async () => {
    await expectKeyError(
      signerFromKeystore({ file: ksFile, keyName: "NOT_A_KEY", env: { [KEYSTORE_PASSWORD_ENV]: PASSWORD } }),
      /keystore key NOT_A_KEY is malformed: expected 0x followed by 64 hex digits/,
    );
  });

  it("missing file, non-keystore JSON and a tampered file are refused", async () => {
    const env = { [KEYSTORE_PASSWORD_ENV]: PASSWORD };
    const missing = join(dir, "nope", "keystore.json");
    await expectKeyError(
      signerFromKeystore({ file: missing, env }),
      new RegExp(`keystore file ${missing} does not exist: create it with .npx hardhat keystore set`),
    );
    const notKs = join(dir, "not-keystore.json");
    writeFileSync(notKs, JSON.stringify({ version: "hardhat-v2", secrets: {} }));
    await expectKeyError(signerFromKeystore({ file: notKs, env }), /is not a Hardhat keystore: version: /);
    writeFileSync(notKs, "{ nope");
    await expectKeyError(signerFromKeystore({ file: notKs, env }), /is not readable JSON/);
    // Swap two secrets' ciphertexts: the HMAC over the file no longer matches.
    const tampered = join(dir, "tampered.json");
    const s = ksJson.secrets;
    writeFileSync(
      tampered,
      JSON.stringify({ ...ksJson, secrets: { ...s, [KEY_ENV]: s.KEY_NO_PREFIX, KEY_NO_PREFIX: s[KEY_ENV] } }),
    );
    await expectKeyError(signerFromKeystore({ file: tampered, env }), /failed its integrity check/);
  });

  it("the default file is Hardhat's global keystore (env-paths rules per platform)", () => {
    expect(defaultKeystorePath({ XDG_CONFIG_HOME: "/x" }, "linux", "/home/op")).toBe(
      "/x/hardhat-nodejs/keystore.json",
    );
    expect(defaultKeystorePath({}, "linux", "/home/op")).toBe(
      "/home/op/.config/hardhat-nodejs/keystore.json",
    );
    expect(defaultKeystorePath({}, "darwin", "/Users/op")).toBe(
      "/Users/op/Library/Preferences/hardhat-nodejs/keystore.json",
    );
    expect(defaultKeystorePath({ APPDATA: "/appdata" }, "win32", "/h")).toBe(
      join("/appdata", "hardhat-nodejs", "Config", "keystore.json"),
    );
  });

  it("promptHidden reads a line in raw mode without echoing it; backspace edits; Ctrl-C cancels", async () => {
    const tty = () => {
      const ee = new EventEmitter();
      const raw: boolean[] = [];
      const input: HiddenInput = {
        setRawMode: (m) => raw.push(m),
        setEncoding: () => undefined,
        resume: () => undefined,
        pause: () => undefined,
        on: (ev, fn) => ee.on(ev, fn),
        off: (ev, fn) => ee.off(ev, fn),
      };
      let written = "";
      return { ee, raw, input, output: { write: (s: string) => (written += s) }, written: () => written };
    };
    const t = tty();
    const p = promptHidden("password: ", t.input, t.output);
    t.ee.emit("data", "hunter");
    t.ee.emit("data", "3\u007f2\r");
    expect(await p).toBe("hunter2");
    expect(t.written()).toBe("password: \n");
    expect(t.raw).toEqual([true, false]);
    expect(t.ee.listenerCount("data")).toBe(0);
    const c = tty();
    const q = promptHidden("password: ", c.input, c.output);
    c.ee.emit("data", "abc\u0003");
    await expect(q).rejects.toThrow(/password prompt cancelled/);
    expect(c.raw).toEqual([true, false]);
  });

  it("CLI: --key-source keystore refusals exit 2 before any RPC; an unknown source exits 2", async () => {
    const cfgPath = join(dir, "keeper-unreachable.json");
    writeFileSync(
      cfgPath,
      JSON.stringify({
        rpcUrl: "http://127.0.0.1:1",
        chainId: 31337,
        contracts: {
          vault: "0x1111111111111111111111111111111111111111",
          perpAdapter: "0x2222222222222222222222222222222222222222",
        },
        underlyings: [{ symbol: "ETH", token: "0x3333333333333333333333333333333333333333" }],
        journal: join(dir, "j.sqlite"),
      }),
    );
    const base = [
      "keeper",
      "simulate-once",
      "--config",
      cfgPath,
      "--key-source",
      "keystore",
      "--keystore-file",
      ksFile,
    ];
    const saved = process.env[KEYSTORE_PASSWORD_ENV];
    try {
      process.env[KEYSTORE_PASSWORD_ENV] = "wrong password!";
      const a = io();
      expect(await main(base, a.io)).toBe(2);
      expect(a.err.join("\n")).toMatch(/simulate-once: wrong password for keystore/);
      expect(a.err.join("\n")).not.toContain("wrong password!");
      const b = io();
      expect(await main([...base, "--keystore-key", "ABSENT_KEY"], b.io)).toBe(2);
      expect(b.err.join("\n")).toMatch(/key ABSENT_KEY is not in keystore/);
    } finally {
      if (saved === undefined) delete process.env[KEYSTORE_PASSWORD_ENV];
      else process.env[KEYSTORE_PASSWORD_ENV] = saved;
    }
    const c = io();
    expect(await main(["keeper", "simulate-once", "--config", cfgPath, "--key-source", "vault"], c.io)).toBe(
      2,
    );
    expect(c.err.join("")).toMatch(/--key-source must be one of env, keystore \(got vault\)/);
  });
});

// --- init-config ---------------------------------------------------------------------------------------

const addr = (label: string): Address => getAddress(keccak256(toHex(label)).slice(0, 42));
const tx = (label: string): Hash => keccak256(toHex(`tx:${label}`));

/** A deployment file as pipeline.ts writes it for a local node (every contract it records). */
function localDeployment(): DeploymentState {
  const names = [
    ...["WETH", "WBTC", "USDC", "OracleRouter", "WETHFeed", "WBTCFeed", "VolatilitySurface", "OptionsPool"],
    ...["OptionsAMM", "PerpDEX", "RiskPolicy", "TreasuryLedger", "HedgeApprovals", "TreasuryVault"],
    ...["OptionsAMMAdapter", "PerpDEXAdapter", "UniswapV3SpotAdapter", "DeltaVaultToken"],
    ...["DeltaVaultTimelock", "DeltaVaultGovernor"],
  ];
  const published = ["UniswapV3Factory", "SwapRouter", "QuoterV2", "GuardianSafe"];
  const contracts: DeploymentState["contracts"] = {};
  names.forEach((name, i) => {
    contracts[name] = {
      address: addr(name),
      blockNumber: i + 1,
      txHash: tx(name),
      constructorArgs: name === "TreasuryVault" ? [addr("RiskPolicy"), [addr("WETH"), addr("WBTC")]] : [],
      verification: {
        kind: "project",
        sourceName: `contracts/${name}.sol`,
        inputSourceName: `project/contracts/${name}.sol`,
        contractName: name,
        fullyQualifiedName: `project/contracts/${name}.sol:${name}`,
        compilerVersion: "v0.8.28+commit.7893614a",
        buildInfoId: "solc-0_8_28-0000",
        standardJsonInput: "localhost/verify/solc-0_8_28-0000.input.json",
        constructorArgs: "0x",
      },
    };
  });
  for (const name of published) {
    contracts[name] = {
      address: addr(name),
      blockNumber: 40,
      txHash: tx(name),
      constructorArgs: [],
      verification: {
        kind: "published",
        package: "@uniswap/v3-periphery",
        version: "1.4.4",
        artifact: `artifacts/contracts/${name}.sol/${name}.json`,
        contractName: name,
        constructorArgs: "0x",
      },
    };
  }
  return {
    format: STATE_FORMAT,
    network: "localhost",
    chainId: 31337,
    genesisHash: tx("genesis"),
    mode: "local",
    anchorTimestamp: 1_760_000_000,
    complete: true,
    updatedAt: "2025-01-01T00:00:00.000Z",
    deployer: addr("deployer"),
    accounts: {
      keeper: addr("keeper"),
      treasurer: addr("treasurer"),
      finance: addr("finance"),
      risk: addr("risk"),
    },
    safe: { owners: [addr("o1"), addr("o2"), addr("o3")], threshold: 2 },
    external: {},
    contracts,
    steps: {
      "deploy:TreasuryVault": {
        status: "done",
        txHash: tx("TreasuryVault"),
        blockNumber: 14,
        inputsHash: tx("in"),
      },
    },
    roles: [{ contract: "TreasuryVault", role: "KEEPER_ROLE", holder: addr("keeper"), holderName: "keeper" }],
  };
}

const writeJson = (name: string, value: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  return p;
};

describe("keeper init-config", () => {
  const initArgs = (deployment: string, out: string, ...extra: string[]) => [
    "keeper",
    "init-config",
    "--deployment",
    deployment,
    "--rpc-url",
    "http://127.0.0.1:8545",
    "--out",
    out,
    ...extra,
  ];

  it("writes a valid keeper config from a deployment file; refuses to overwrite without --force", async () => {
    const dep = writeJson("localhost.json", localDeployment());
    const out = join(dir, "keeper.json");
    const a = io();
    expect(await main(initArgs(dep, out), a.io)).toBe(0);
    expect(a.out.join("")).toMatch(
      /wrote .*keeper\.json: chain 31337, vault 0x[0-9a-fA-F]{40}, underlyings ETH, BTC/,
    );
    const cfg = loadConfig(out);
    expect(cfg.rpcUrl).toBe("http://127.0.0.1:8545");
    expect(cfg.chainId).toBe(31337);
    expect(cfg.contracts).toEqual({
      vault: addr("TreasuryVault"),
      perpAdapter: addr("PerpDEXAdapter"),
      optionsAdapter: addr("OptionsAMMAdapter"),
      spotAdapter: addr("UniswapV3SpotAdapter"),
      spotQuoter: addr("QuoterV2"),
    });
    expect(cfg.underlyings).toEqual([
      { symbol: "ETH", token: addr("WETH") },
      { symbol: "BTC", token: addr("WBTC") },
    ]);
    expect(cfg.journal).toBe("keeper-journal.sqlite");
    const before = readFileSync(out, "utf8");

    const b = io();
    expect(await main(initArgs(dep, out, "--journal", "/var/lib/keeper/j.sqlite"), b.io)).toBe(2);
    expect(b.err.join("")).toMatch(/keeper\.json already exists: pass --force to overwrite it/);
    expect(readFileSync(out, "utf8")).toBe(before);

    expect(await main(initArgs(dep, out, "--journal", "/var/lib/keeper/j.sqlite", "--force"), io().io)).toBe(
      0,
    );
    expect(loadConfig(out).journal).toBe("/var/lib/keeper/j.sqlite");
  });

  it("an external-mode deployment takes the tokens from `external`", () => {
    const d = localDeployment();
    const { WETH: _w, WBTC: _b, ...rest } = d.contracts;
    const ext = {
      ...d,
      mode: "external" as const,
      contracts: rest,
      external: { WETH: addr("x-weth"), WBTC: addr("x-wbtc") },
    };
    const cfg = parseConfig(keeperConfigFromDeployment(ext, { rpcUrl: "https://rpc.example" }));
    expect(cfg.underlyings.map((u) => u.token)).toEqual([addr("x-weth"), addr("x-wbtc")]);
  });

  it("bad inputs exit 2 naming the file or the field, and write nothing", async () => {
    const out = join(dir, "never.json");
    const run = async (dep: string, ...extra: string[]) => {
      const r = io();
      const code = await main(initArgs(dep, out, ...extra), r.io);
      return { code, err: r.err.join("\n") };
    };
    const missing = await run(join(dir, "deployments", "nope.json"));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(
      /deployment file .*nope\.json does not exist: run `npm run deploy -- --network <name>` first/,
    );

    const malformed = await run(writeJson("malformed.json", '{ "format": "deltavault-deployment/1", '));
    expect(malformed.code).toBe(2);
    expect(malformed.err).toMatch(/malformed\.json is not valid JSON/);

    const d = localDeployment();
    const { TreasuryVault: _v, ...noVault } = d.contracts;
    const r1 = await run(writeJson("no-vault.json", { ...d, contracts: noVault }));
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/deployment\.contracts\.TreasuryVault\.address: missing/);
    expect(r1.err).not.toMatch(/PerpDEXAdapter/);

    const vaultNoAddress = { ...d.contracts.TreasuryVault, address: undefined };
    const r2 = await run(
      writeJson("vault-no-address.json", {
        ...d,
        contracts: { ...d.contracts, TreasuryVault: vaultNoAddress },
      }),
    );
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/deployment\.contracts\.TreasuryVault\.address: /);

    const { WBTC: _b, ...noWbtc } = d.contracts;
    const r3 = await run(writeJson("no-wbtc.json", { ...d, contracts: noWbtc }));
    expect(r3.err).toMatch(/deployment\.contracts\.WBTC\.address \(or deployment\.external\.WBTC\): missing/);

    // Spot legs: both the adapter and the quoter, or neither.
    const { QuoterV2: _q, ...noQuoter } = d.contracts;
    const r3b = await run(writeJson("no-quoter.json", { ...d, contracts: noQuoter }));
    expect(r3b.code).toBe(2);
    expect(r3b.err).toMatch(/deployment\.contracts\.QuoterV2\.address: missing \(spot legs need/);
    const { UniswapV3SpotAdapter: _s, ...noSpot } = noQuoter;
    const noSpotCfg = parseConfig(
      keeperConfigFromDeployment({ ...d, contracts: noSpot }, { rpcUrl: "http://x" }),
    );
    expect(noSpotCfg.contracts.spotAdapter).toBeUndefined();
    expect(noSpotCfg.contracts.spotQuoter).toBeUndefined();

    const r4 = await run(writeJson("incomplete.json", { ...d, complete: false }));
    expect(r4.code).toBe(2);
    expect(r4.err).toMatch(/deployment\.complete: false .*re-run `npm run deploy -- --network localhost`/);

    const r5 = await run(writeJson("not-deployment.json", { chainId: 1 }));
    expect(r5.code).toBe(2);
    expect(r5.err).toMatch(/not a deployment written by npm run deploy:\n\s+deployment\.format: /);

    // The generated config is validated before it is written.
    const dep = writeJson("ok.json", d);
    const r6 = io();
    expect(
      await main(["keeper", "init-config", "--deployment", dep, "--rpc-url", "ws://x", "--out", out], r6.io),
    ).toBe(2);
    expect(r6.err.join("")).toMatch(/config\.rpcUrl: expected an http\(s\) URL/);

    const r7 = io();
    expect(await main(["keeper", "init-config", "--deployment", dep], r7.io)).toBe(2);
    expect(r7.err.join("")).toMatch(/--rpc-url, --out required/);
    expect(existsSync(out)).toBe(false);
  });
});

// --- backtest subcommand and usage ------------------------------------------------------------------

describe("deltavault backtest / usage", () => {
  it("backtest runs the backtest CLI: exit 0, the last stdout line is the JSON report", async () => {
    const r = io();
    const code = await main(
      [
        "backtest",
        "--days",
        "3",
        "--policy",
        "regime-band",
        "--json",
        "--no-charts",
        "--dk-paths",
        "0",
        "--out",
        dir,
      ],
      r.io,
    );
    expect(code, r.err.join("\n")).toBe(0);
    const last = r.out.at(-1) ?? "";
    const report = JSON.parse(last) as { policies: { name: string }[] };
    // the chosen policy, beside the unhedged baseline every run reports
    expect(report.policies.map((p) => p.name)).toEqual(["unhedged", "regime-band"]);
    const help = io();
    expect(await main(["backtest", "--help"], help.io)).toBe(0);
    expect(help.out.join("")).toMatch(/^usage: deltavault backtest/);
    const bad = io();
    expect(await main(["backtest", "--days", "-1x"], bad.io)).toBe(2);
  });

  it("an unknown command exits 2 with the usage, which lists keeper, init-config and backtest", async () => {
    const r = io();
    expect(await main(["frobnicate"], r.io)).toBe(2);
    const err = r.err.join("\n");
    expect(err).toMatch(/unknown command "frobnicate"/);
    expect(err).toMatch(/usage: deltavault keeper <command> --config <file>/);
    expect(err).toMatch(/deltavault keeper init-config --deployment <file>/);
    expect(err).toMatch(/deltavault backtest \[flags\]/);
    expect(err).toMatch(/--key-source env\|keystore/);
  });
});
