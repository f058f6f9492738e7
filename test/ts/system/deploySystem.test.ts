import { spawnSync } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { network } from "hardhat";
import { getAddress, parseAbi, parseAbiItem, type Address, type Hex } from "viem";
import {
  adminRoles,
  defaultLocalConfig,
  deploySystem,
  fundTreasury,
  toUnits,
  type SystemDeployment,
} from "../../../scripts/deploy/system.ts";
import { priceFromSqrtPriceX96, readPoolState } from "../../../scripts/deploy/uniswapV3.ts";
import { main, parseCli, type DemoResult } from "../../../scripts/demo.ts";

const { viem } = await network.connect();
const publicClient = await viem.getPublicClient();
const wallets = await viem.getWalletClients();
const WAD = 10n ** 18n;

function wallet(i: number) {
  const w = wallets[i];
  if (!w) throw new Error(`no wallet ${i}`);
  return w;
}

/** Governance for the hand-over path: an account that is none of the default operators. */
const timelockStandIn = getAddress(wallet(7).account.address);

let local: SystemDeployment;
let governed: SystemDeployment;
let governedFromBlock: bigint;

beforeAll(async () => {
  local = await deploySystem(viem);
  governedFromBlock = (await publicClient.getBlockNumber()) + 1n;
  governed = await deploySystem(viem, { ...defaultLocalConfig(), accounts: { governance: timelockStandIn } });
});

function allAddresses(d: SystemDeployment): Record<string, Address> {
  return {
    weth: d.tokens.weth.address,
    wbtc: d.tokens.wbtc.address,
    usdc: d.tokens.usdc.address,
    ethFeed: d.feeds.weth,
    btcFeed: d.feeds.wbtc,
    router: d.router,
    surface: d.surface,
    optionsPool: d.optionsPool,
    optionsAmm: d.optionsAmm,
    perpDex: d.perpDex,
    factory: d.uniswap.factory,
    swapRouter: d.uniswap.swapRouter,
    positionManager: d.uniswap.positionManager,
    quoterV2: d.uniswap.quoterV2,
    wethPool: d.pools.weth,
    wbtcPool: d.pools.wbtc,
    policy: d.policy,
    ledger: d.ledger,
    approvals: d.approvals,
    vault: d.vault,
    optionsAdapter: d.adapters.options,
    perpAdapter: d.adapters.perp,
    spotAdapter: d.adapters.spot,
  };
}

describe("deploySystem: contracts and wiring", () => {
  it("deploys code at every (distinct, checksummed) address", async () => {
    const entries = Object.entries(allAddresses(local));
    expect(new Set(entries.map(([, a]) => a)).size).toBe(entries.length);
    for (const [name, address] of entries) {
      expect(address, name).toBe(getAddress(address));
      const code = await publicClient.getCode({ address });
      expect(code && code.length > 2, `${name} has code`).toBe(true);
    }
  });

  it("wires the vault, the approval queue and the adapters to each other", async () => {
    const vault = await viem.getContractAt("TreasuryVault", local.vault);
    expect(await vault.read.policy()).toBe(local.policy);
    expect(await vault.read.oracle()).toBe(local.router);
    expect(await vault.read.ledger()).toBe(local.ledger);
    expect(await vault.read.approvals()).toBe(local.approvals);
    expect(await vault.read.quoteToken()).toBe(local.tokens.usdc.address);
    expect(await vault.read.underlyings()).toEqual([local.tokens.weth.address, local.tokens.wbtc.address]);
    const approvals = await viem.getContractAt("HedgeApprovals", local.approvals);
    expect(await approvals.read.vault()).toBe(local.vault);
    expect(await approvals.read.policy()).toBe(local.policy);
    const optionsAdapter = await viem.getContractAt("OptionsAMMAdapter", local.adapters.options);
    expect(await optionsAdapter.read.amm()).toBe(local.optionsAmm);
    const perpAdapter = await viem.getContractAt("PerpDEXAdapter", local.adapters.perp);
    expect(await perpAdapter.read.dex()).toBe(local.perpDex);
    const spot = await viem.getContractAt("UniswapV3SpotAdapter", local.adapters.spot);
    expect(await spot.read.router()).toBe(local.uniswap.swapRouter);
    expect(await spot.read.oracle()).toBe(local.router);
    expect(await spot.read.quoteToken()).toBe(local.tokens.usdc.address);
    expect(await spot.read.poolFee()).toBe(500);
    const pool = await viem.getContractAt("OptionsPool", local.optionsPool);
    expect(await pool.read.amm()).toBe(local.optionsAmm);
  });

  it("prices ETH at 3000 and BTC at 60000 through the router, with 1 h max age and a 20% jump limit", async () => {
    const router = await viem.getContractAt("OracleRouter", local.router);
    const [eth] = await router.read.price([local.tokens.weth.address]);
    const [btc] = await router.read.price([local.tokens.wbtc.address]);
    expect(eth).toBe(3000n * WAD);
    expect(btc).toBe(60_000n * WAD);
    expect(local.prices).toEqual({ weth: eth, wbtc: btc });
    for (const key of ["weth", "wbtc"] as const) {
      const config = await router.read.feedConfig([local.tokens[key].address]);
      expect([getAddress(config.feed), config.maxAge, config.maxJumpBps]).toEqual([
        local.feeds[key],
        3600,
        2000,
      ]);
    }
    // The 20% jump limit is live: a 23% move makes the router fail closed until a sane round.
    const feed = await viem.getContractAt("ManagedPriceFeed", local.feeds.weth);
    await feed.write.submit([3700n * 10n ** 8n]);
    await expect(router.read.price([local.tokens.weth.address])).rejects.toThrow();
    await feed.write.submit([3000n * 10n ** 8n]);
    expect((await router.read.price([local.tokens.weth.address]))[0]).toBe(3000n * WAD);
  });

  it("lists the 30-day strip of puts and calls at 80..120% of spot on both underlyings, with smiles at 7/30/90 days", async () => {
    const amm = await viem.getContractAt("OptionsAMM", local.optionsAmm);
    const surface = await viem.getContractAt("VolatilitySurface", local.surface);
    expect(local.series).toHaveLength(20);
    expect(local.smileExpiries).toHaveLength(3);
    const now = (await publicClient.getBlock()).timestamp;
    const days = local.smileExpiries.map((e) => Number(e - now) / 86_400);
    expect(days[0]).toBeGreaterThan(6);
    expect(days[0]).toBeLessThan(8);
    expect(days[2]).toBeGreaterThan(89);
    expect(days[2]).toBeLessThan(91);
    for (const e of local.smileExpiries) {
      expect(e % 86_400n).toBe(8n * 3600n); // 08:00 UTC
      for (const t of [local.tokens.weth, local.tokens.wbtc])
        expect(await surface.read.isSet([t.address, e])).toBe(true);
    }
    for (const [token, spot] of [
      [local.tokens.weth.address, 3000n],
      [local.tokens.wbtc.address, 60_000n],
    ] as const) {
      const strip = local.series.filter((s) => s.underlying === token);
      expect(strip).toHaveLength(10);
      const strikes = [...new Set(strip.map((s) => s.strike))].sort((a, b) => (a < b ? -1 : 1));
      expect(strikes).toEqual([80n, 90n, 100n, 110n, 120n].map((pct) => (spot * pct * WAD) / 100n));
      expect(strip.filter((s) => s.isCall)).toHaveLength(5);
      for (const s of strip) {
        expect(s.expiry).toBe(local.smileExpiries[1]);
        const info = await amm.read.seriesInfo([s.id]);
        expect([info.underlying, BigInt(info.strike), BigInt(info.expiry), info.isCall]).toEqual([
          token,
          s.strike,
          s.expiry,
          s.isCall,
        ]);
      }
    }
  });

  it("funds the options LP pool and the perp DEX with 10M USDC each and lists both perp markets", async () => {
    const pool = await viem.getContractAt("OptionsPool", local.optionsPool);
    expect(await pool.read.nav()).toBe(10_000_000n * WAD); // WAD USD
    const dex = await viem.getContractAt("PerpDEX", local.perpDex);
    expect(await dex.read.poolValue()).toBe(10_000_000n * WAD);
    expect(await dex.read.listMarkets()).toEqual([local.tokens.weth.address, local.tokens.wbtc.address]);
  });

  it("prices both Uniswap pools at the oracle within 1e-6, fee 500, with liquidity in range", async () => {
    for (const key of ["weth", "wbtc"] as const) {
      const state = await readPoolState({ publicClient }, local.pools[key]);
      expect(state.fee).toBe(500);
      expect(state.liquidity).toBeGreaterThan(0n);
      const baseIsToken0 = state.token0 === local.tokens[key].address;
      const price = priceFromSqrtPriceX96({
        sqrtPriceX96: state.sqrtPriceX96,
        baseDecimals: local.tokens[key].decimals,
        quoteDecimals: 6,
        baseIsToken0,
      });
      const oracle = Number(local.prices[key] / WAD);
      expect(Math.abs(price / oracle - 1)).toBeLessThan(1e-6);
    }
  });
});

describe("deploySystem: risk policy", () => {
  it("allow-lists exactly the three adapters", async () => {
    const policy = await viem.getContractAt("RiskPolicy", local.policy);
    for (const a of Object.values(local.adapters)) expect(await policy.read.venueAllowed([a])).toBe(true);
    for (const other of [local.optionsAmm, local.perpDex, local.uniswap.swapRouter, local.vault]) {
      expect(await policy.read.venueAllowed([other])).toBe(false);
    }
  });

  it("sets the global limits of the brief", async () => {
    const policy = await viem.getContractAt("RiskPolicy", local.policy);
    expect(await policy.read.globalLimits()).toEqual({
      maxSlippageBps: 100,
      oracleMaxDeviationBps: 200,
      oracleMaxAge: 3600,
      keeperCooldown: 0,
      window: 86_400,
      approvalExpiry: 3600,
      greeksCacheMaxAge: 3600,
      greeksCacheMaxMoveBps: 100,
      turnoverCapPerWindow: 100_000_000n * WAD,
      tier1Notional: 2_000_000n * WAD,
      tier2Notional: 10_000_000n * WAD,
    });
  });

  it("sets WETH and WBTC limits (band 25 WETH / 1.5 WBTC, hedge ratio 0.5..1)", async () => {
    const policy = await viem.getContractAt("RiskPolicy", local.policy);
    const eth = await policy.read.underlyingLimits([local.tokens.weth.address]);
    expect(eth).toEqual({
      enabled: true,
      targetDelta: 0n,
      band: 25n * WAD,
      minHedgeRatio: WAD / 2n,
      maxHedgeRatio: WAD,
      maxOptionLegSize: 2_000n * WAD,
      maxPerpLegSize: 5_000n * WAD,
      maxSpotLegSize: 1_000n * WAD,
      maxPerpPosition: 10_000n * WAD,
      premiumBudgetPerWindow: 2_000_000n * WAD,
      maxOpenSeries: 20,
    });
    const btc = await policy.read.underlyingLimits([local.tokens.wbtc.address]);
    expect(btc.band).toBe((3n * WAD) / 2n);
    expect(btc.enabled).toBe(true);
    // Caps proportionate to WETH's in USD at 3000 / 60000 (x 1/20).
    expect(btc.maxOptionLegSize * 20n).toBe(eth.maxOptionLegSize);
    expect(btc.maxPerpLegSize * 20n).toBe(eth.maxPerpLegSize);
    expect(btc.maxSpotLegSize * 20n).toBe(eth.maxSpotLegSize);
    expect(btc.maxPerpPosition * 20n).toBe(eth.maxPerpPosition);
  });
});

// ---------------------------------------------------------------------------------------------
// Roles: the exact holder set of every role, rebuilt from RoleGranted / RoleRevoked events.
// ---------------------------------------------------------------------------------------------

const roleGranted = parseAbiItem(
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
);
const roleRevoked = parseAbiItem(
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
);
const hasRoleAbi = parseAbi(["function hasRole(bytes32 role, address account) view returns (bool)"]);

/** Role id as the contract itself declares it (a public constant), not recomputed here. */
async function roleOf(contract: Address, name: string): Promise<Hex> {
  return publicClient.readContract({
    address: contract,
    abi: parseAbi([`function ${name}() view returns (bytes32)`]),
    functionName: name,
  });
}

type Matrix = Array<{ contract: Address; label: string; role: string; holders: Address[] }>;

function expectedMatrix(d: SystemDeployment): Matrix {
  const { deployer, governance: g, keeper, guardian, treasurer, finance, risk } = d.accounts;
  const m: Matrix = [];
  const add = (label: string, contract: Address, role: string, holders: Address[]) =>
    m.push({ label, contract, role, holders });
  for (const [label, t] of Object.entries(d.tokens)) {
    add(label, t.address, "DEFAULT_ADMIN_ROLE", [g]);
    add(label, t.address, "MINTER_ROLE", [deployer]);
  }
  for (const [label, f] of Object.entries(d.feeds)) {
    add(`${label} feed`, f, "DEFAULT_ADMIN_ROLE", [g]);
    add(`${label} feed`, f, "ORACLE_ROLE", [deployer]);
  }
  const adminOnly: Array<[string, Address, string[]]> = [
    ["OracleRouter", d.router, ["DEFAULT_ADMIN_ROLE", "ORACLE_ADMIN_ROLE"]],
    ["VolatilitySurface", d.surface, ["DEFAULT_ADMIN_ROLE", "SURFACE_ADMIN_ROLE"]],
    ["OptionsPool", d.optionsPool, ["DEFAULT_ADMIN_ROLE", "POOL_ADMIN_ROLE"]],
    ["OptionsAMM", d.optionsAmm, ["DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "LISTER_ROLE"]],
    ["PerpDEX", d.perpDex, ["DEFAULT_ADMIN_ROLE", "MARKET_ADMIN_ROLE"]],
    ["RiskPolicy", d.policy, ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"]],
    ["TreasuryLedger", d.ledger, ["DEFAULT_ADMIN_ROLE"]],
    ["HedgeApprovals", d.approvals, ["DEFAULT_ADMIN_ROLE"]],
    ["TreasuryVault", d.vault, ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"]],
  ];
  for (const [label, contract, roles] of adminOnly) for (const role of roles) add(label, contract, role, [g]);
  add("TreasuryLedger", d.ledger, "TREASURER_ROLE", [treasurer]);
  add("HedgeApprovals", d.approvals, "PROPOSER_ROLE", [keeper]);
  add("HedgeApprovals", d.approvals, "FINANCE_ROLE", [finance]);
  add("HedgeApprovals", d.approvals, "RISK_ROLE", [risk]);
  add("TreasuryVault", d.vault, "KEEPER_ROLE", [keeper]);
  add("TreasuryVault", d.vault, "GUARDIAN_ROLE", [guardian]);
  add("TreasuryVault", d.vault, "TREASURER_ROLE", [treasurer]);
  return m;
}

/** Current holders per (contract, role id) from the event history since `fromBlock`. */
async function holdersFromEvents(
  contracts: Address[],
  fromBlock: bigint,
): Promise<Map<string, Set<Address>>> {
  const logs = await publicClient.getLogs({
    address: contracts,
    events: [roleGranted, roleRevoked],
    fromBlock,
  });
  const holders = new Map<string, Set<Address>>();
  for (const log of logs) {
    const key = `${getAddress(log.address)}:${log.args.role}`;
    const set = holders.get(key) ?? new Set<Address>();
    const account = getAddress(log.args.account ?? "0x");
    if (log.eventName === "RoleGranted") set.add(account);
    else set.delete(account);
    holders.set(key, set);
  }
  return holders;
}

async function expectExactRoles(d: SystemDeployment, fromBlock: bigint): Promise<void> {
  const matrix = expectedMatrix(d);
  const contracts = [...new Set(matrix.map((e) => e.contract))];
  const actual = await holdersFromEvents(contracts, fromBlock);
  const expected = new Map<string, Set<Address>>();
  for (const e of matrix) {
    const id = await roleOf(e.contract, e.role);
    const key = `${e.contract}:${id}`;
    expected.set(key, new Set(e.holders));
    for (const holder of e.holders) {
      const has = await publicClient.readContract({
        address: e.contract,
        abi: hasRoleAbi,
        functionName: "hasRole",
        args: [id, holder],
      });
      expect(has, `${e.label} ${e.role} held by ${holder}`).toBe(true);
    }
  }
  // Every role that has holders is in the matrix, with exactly the intended holders.
  const nonEmpty = [...actual.entries()].filter(([, set]) => set.size > 0);
  expect(new Map(nonEmpty.map(([k, set]) => [k, [...set].sort()]))).toEqual(
    new Map([...expected.entries()].map(([k, set]) => [k, [...set].sort()])),
  );
}

describe("deploySystem: roles", () => {
  it("grants exactly the intended roles when governance is the deployer (local default)", async () => {
    expect(local.accounts.governance).toBe(local.accounts.deployer);
    expect(local.accounts.keeper).toBe(getAddress(wallet(1).account.address));
    expect(local.accounts.risk).toBe(getAddress(wallet(5).account.address));
    await expectExactRoles(local, 0n);
  });

  it("hands every admin role to a separate governance and leaves the deployer none", async () => {
    expect(governed.accounts.governance).toBe(timelockStandIn);
    expect(governed.accounts.deployer).not.toBe(timelockStandIn);
    await expectExactRoles(governed, governedFromBlock);
    const adminEntries = expectedMatrix(governed).filter((e) => e.holders.includes(timelockStandIn));
    expect(adminEntries.length).toBe(22);
    // The exported hand-over list covers the same 22 (contract, role) pairs.
    const handOver = adminRoles(governed).flatMap((e) => e.roles.map((r) => `${e.contract}:${r}`));
    expect(handOver.sort()).toEqual(adminEntries.map((e) => `${e.contract}:${e.role}`).sort());
    for (const e of adminEntries) {
      const has = await publicClient.readContract({
        address: e.contract,
        abi: hasRoleAbi,
        functionName: "hasRole",
        args: [await roleOf(e.contract, e.role), governed.accounts.deployer],
      });
      expect(has, `deployer still holds ${e.label} ${e.role}`).toBe(false);
    }
  });

  it("lets only governance change the policy after the hand-over", async () => {
    const policy = await viem.getContractAt("RiskPolicy", governed.policy);
    const someAdapter = governed.adapters.spot;
    await expect(policy.write.setVenueAllowed([someAdapter, false])).rejects.toThrow(
      /AccessControlUnauthorizedAccount/,
    );
    await policy.write.setVenueAllowed([someAdapter, false], { account: wallet(7).account });
    expect(await policy.read.venueAllowed([someAdapter])).toBe(false);
    await policy.write.setVenueAllowed([someAdapter, true], { account: wallet(7).account });
    expect(await policy.read.venueAllowed([someAdapter])).toBe(true);
  });
});

describe("fundTreasury", () => {
  it("deposits into the vault and records the creator payouts owed: WETH spot 1000, liabilities 300, net 700", async () => {
    await fundTreasury(viem, governed, {
      weth: 1_000,
      wbtc: 50,
      usdc: 5_000_000,
      creatorPayoutsOwedWeth: 300,
    });
    const vault = await viem.getContractAt("TreasuryVault", governed.vault);
    const eth = await vault.read.exposure([governed.tokens.weth.address]);
    expect([eth.spot, eth.options, eth.perps, eth.liabilities, eth.net]).toEqual([
      1_000n * WAD,
      0n,
      0n,
      300n * WAD,
      700n * WAD,
    ]);
    expect(eth.band).toBe(25n * WAD);
    expect(eth.rebalanceDue).toBe(true);
    const btc = await vault.read.exposure([governed.tokens.wbtc.address]);
    expect([btc.spot, btc.liabilities, btc.net]).toEqual([50n * WAD, 0n, 50n * WAD]);
    const usdc = await viem.getContractAt("TestToken", governed.tokens.usdc.address);
    expect(await usdc.read.balanceOf([governed.vault])).toBe(5_000_000n * 10n ** 6n);
    const ledger = await viem.getContractAt("TreasuryLedger", governed.ledger);
    expect(await ledger.read.liability([governed.tokens.weth.address, 2])).toBe(300n * WAD);
    const [nav] = await vault.read.nav();
    expect(nav).toBe((5_000_000n + 700n * 3000n + 50n * 60_000n) * WAD);
  });

  it("adds to the liability on a second call and skips zero amounts", async () => {
    const vault = await viem.getContractAt("TreasuryVault", governed.vault);
    const before = await vault.read.exposure([governed.tokens.weth.address]);
    await fundTreasury(viem, governed, { weth: 0, wbtc: 0, usdc: "0.5", creatorPayoutsOwedWeth: "12.5" });
    const after = await vault.read.exposure([governed.tokens.weth.address]);
    expect(after.spot).toBe(before.spot);
    expect(after.liabilities - before.liabilities).toBe(125n * 10n ** 17n);
  });

  it("rejects amounts finer than the token's decimals and negative amounts", async () => {
    await expect(
      fundTreasury(viem, governed, { weth: 0, wbtc: "0.000000001", usdc: 0, creatorPayoutsOwedWeth: 0 }),
    ).rejects.toThrow(/more than 8 decimals/);
    await expect(
      fundTreasury(viem, governed, { weth: -1, wbtc: 0, usdc: 0, creatorPayoutsOwedWeth: 0 }),
    ).rejects.toThrow();
  });
});

describe("config validation and step errors", () => {
  it("converts human amounts exactly", () => {
    expect(toUnits("1.5", 8)).toBe(150_000_000n);
    expect(toUnits(0.1, 18)).toBe(10n ** 17n);
    expect(toUnits("100000000", 18)).toBe(10n ** 26n);
    expect(toUnits("123456789.123456789123456789", 18)).toBe(123456789123456789123456789n);
    expect(() => toUnits("0.0000001", 6, "usdc")).toThrow(/usdc: 0.0000001 has more than 6 decimals/);
  });

  it("rejects inconsistent configs before sending anything", async () => {
    const before = await publicClient.getBlockNumber();
    const base = defaultLocalConfig();
    await expect(
      deploySystem(viem, { ...base, options: { ...base.options, listExpiryDays: 45 } }),
    ).rejects.toThrow(/listExpiryDays/);
    await expect(
      deploySystem(viem, {
        ...base,
        policy: { global: { ...base.policy.global, tier1Usd: 20_000_000 } },
      }),
    ).rejects.toThrow(/tier1Usd/);
    await expect(deploySystem(viem, { ...base, accounts: { keeper: "0x1234" } })).rejects.toThrow(/address/);
    expect(await publicClient.getBlockNumber()).toBe(before);
  });

  it("names the failing step when a transaction reverts", async () => {
    const base = defaultLocalConfig();
    const weth = base.assets.weth;
    const bad = {
      ...base,
      assets: {
        ...base.assets,
        weth: { ...weth, options: { ...weth.options, smile: { atmVol: 9, skew: 0, curvature: 0 } } },
      },
    };
    await expect(deploySystem(viem, bad)).rejects.toThrow(
      /options venue: surface\.setSmile\(WETH, \d+\) failed: .*AtmVolOutOfBounds\(9000000000000000000\)/,
    );
  });

  it("names the failing deployment when a constructor reverts", async () => {
    const base = defaultLocalConfig();
    const bad = { ...base, policy: { global: { ...base.policy.global, oracleMaxAge: 5 } } };
    await expect(deploySystem(viem, bad)).rejects.toThrow(
      /core: deploy RiskPolicy: .*InvalidLimit\("oracleMaxAge"\)/,
    );
  });
});

describe("demo", () => {
  it("parses its flags and rejects unknown ones", () => {
    const defaults = { days: 30, seed: 42, policy: "regime-band" };
    expect(parseCli([])).toEqual({ json: false, help: false, ...defaults });
    expect(parseCli(["--json"])).toEqual({ json: true, help: false, ...defaults });
    expect(() => parseCli(["--jsn"])).toThrow(/--jsn/);
    expect(() => parseCli(["deploy"])).toThrow(/unexpected argument "deploy"/);
  });

  it("returns exit code 2 on a bad flag and 0 on --help", async () => {
    const err: string[] = [];
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await main(["--nope"], io)).toBe(2);
    expect(err.join("\n")).toMatch(/demo: .*--nope/);
    expect(await main(["--help"], io)).toBe(0);
    expect(out.join("\n")).toMatch(/usage: npm run demo/);
  });

  it("exits 2 as a process on an unknown flag", () => {
    const r = spawnSync(process.execPath, ["scripts/demo.ts", "--bogus"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--bogus/);
  });

  it("runs end to end and prints sane figures, JSON last", async () => {
    const out: string[] = [];
    const err: string[] = [];
    // --days 0: the scenes only (the month has its own test, test/ts/system/demoMonth.test.ts).
    const code = await main(["--json", "--days", "0"], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const result = JSON.parse(out[out.length - 1] ?? "") as DemoResult;
    expect(Object.keys(result).sort()).toEqual(
      [
        "accounts",
        "addresses",
        "atomicHedge",
        "chainId",
        "governance",
        "elapsedMs",
        "month",
        "exposure",
        "navUsd",
        "optionQuote",
        "perpFill",
        "seriesListed",
        "swap",
        "treasury",
      ].sort(),
    );
    expect(result.month).toBeNull();
    // The atomic hedge: one transaction, tier 1 (approved), from 700 WETH net long into the band.
    const hedge = result.atomicHedge;
    expect(hedge.tier).toBe(1);
    expect(hedge.before.net).toBeCloseTo(700, 6);
    expect(Math.abs(hedge.after.net)).toBeLessThanOrEqual(hedge.after.band);
    expect(hedge.after.options).toBeLessThan(0);
    expect(hedge.after.perps).toBeLessThan(0);
    expect(hedge.legs.map((l) => l.kind)).toEqual(["margin deposit", "option", "perp"]);
    expect(hedge.inputsHash).toMatch(/^0x[0-9a-f]{64}$/);
    // Governance: the DAO's vote changes the band; the Safe pauses; only a second vote unpauses.
    const g = result.governance;
    expect(g.bandChange.states).toEqual(["Pending", "Active", "Succeeded", "Queued", "Executed"]);
    expect(g.bandChange.bandBefore).toBe(25);
    expect(g.bandChange.bandAfter).toBe(30);
    expect(g.guardian.modeAfterPause).toBe("Paused");
    expect(g.guardian.keeperRevert).toMatch(/Paused/);
    expect(g.guardian.modeAfterUnpauseVote).toBe("Normal");
    expect(Object.keys(result.addresses)).toEqual([
      "tokens",
      "oracles",
      "options",
      "perp",
      "uniswap",
      "core",
      "adapters",
    ]);
    const q = result.optionQuote;
    expect(q.premium).toBeGreaterThan(0);
    expect(q.premium).toBeCloseTo(q.mid + q.fee + q.spread, 6);
    expect(q.delta).toBeLessThan(0); // a put
    expect(q.delta).toBeGreaterThan(-1);
    expect(q.gamma).toBeGreaterThan(0);
    expect(q.vega).toBeGreaterThan(0);
    expect(q.theta).toBeLessThan(0);
    expect(q.vol).toBeCloseTo(0.65, 6);
    expect(Math.abs(result.perpFill.fillPrice / 3000 - 1)).toBeLessThan(0.01);
    expect(result.perpFill.fillPrice).toBeLessThan(3000); // a short fills below index when it adds skew
    expect(result.perpFill.skewAfter).toBe(-100);
    expect(result.perpFill.fundingRatePerDay).toBeLessThan(0); // shorts dominate: shorts pay
    expect(result.perpFill.fee).toBeGreaterThan(0);
    expect(Math.abs(result.swap.effectivePrice / 3000 - 1)).toBeLessThan(0.01);
    expect(result.swap.effectivePrice).toBeLessThan(3000); // fee and price impact
    expect(result.exposure.WETH).toMatchObject({
      spot: 1000,
      liabilities: 300,
      net: 700,
      band: 25,
      rebalanceDue: true,
    });
    expect(result.exposure.WBTC).toMatchObject({ spot: 50, liabilities: 0, net: 50, band: 1.5 });
    expect(result.navUsd).toBeCloseTo(10_100_000, 6);
    expect(out.join("\n")).toMatch(/Option quote: buy 100 WETH 3,000 put/);
  });
});
