/**
 * Start-up resolution and preflight: from the configured vault and adapters, reads every other
 * address the keeper needs (policy, oracle router, feeds, approvals, ledger, quote token, venues,
 * the volatility surface, the listed option series, the optional Uniswap V3 spot venue and its pools)
 * and refuses to start — with an error that says what is wrong — on a wrong chain id, a configured or
 * derived contract without code, an underlying the vault does not list, a spot adapter or quoter that
 * does not fit the vault, or a keeper address without KEEPER_ROLE.
 */
import { getAddress, keccak256, toHex, zeroAddress, type Address } from "viem";
import type { Underlying } from "../feeds/types.ts";
import type { Abis } from "./abis.ts";
import { call, multiRead, need, type Client } from "./multicall.ts";

export type UnderlyingInfo = {
  symbol: Underlying;
  token: Address;
  decimals: number;
  feed: Address;
  feedDecimals: number;
};

export type SeriesInfo = {
  id: bigint;
  underlying: Address;
  expiry: bigint;
  isCall: boolean;
  strike: bigint;
  cap: bigint;
};

/**
 * The Uniswap V3 spot venue: the vault's adapter (which swaps through `router` in pools of fee tier
 * `poolFee`), the QuoterV2 of the same factory, and the base/quote pool per underlying token (an
 * underlying without a pool of that tier gets no spot quotes).
 */
export type SpotVenue = {
  adapter: Address;
  quoter: Address;
  router: Address;
  factory: Address;
  poolFee: number;
  pools: Map<Address, Address>;
};

export type ChainAddresses = {
  chainId: number;
  vault: Address;
  policy: Address;
  router: Address;
  approvals: Address;
  ledger: Address;
  quoteToken: Address;
  quoteDecimals: number;
  perpAdapter: Address;
  perpDex: Address;
  optionsAdapter: Address | null;
  amm: Address | null;
  surface: Address | null;
  /** The surface's clamps (VolatilitySurface MIN_VOL, MAX_VOL, MAX_ABS_MONEYNESS), as numbers. */
  surfaceBounds: SurfaceBounds;
  /** The spot venue when `spotAdapter` and `spotQuoter` are configured, else null (no spot legs). */
  spot: SpotVenue | null;
  underlyings: UnderlyingInfo[];
  /** Option series listed on the AMM (static fields), by id; empty without an options adapter. */
  series: Map<bigint, SeriesInfo>;
};

export type SurfaceBounds = { minVol: number; maxVol: number; maxAbsMoneyness: number };

export type ResolveInput = {
  chainId: number;
  vault: Address;
  perpAdapter: Address;
  optionsAdapter?: Address | undefined;
  /** The Uniswap V3 spot adapter and the QuoterV2 to price it with: both or neither. */
  spotAdapter?: Address | undefined;
  spotQuoter?: Address | undefined;
  underlyings: { symbol: Underlying; token: Address }[];
  /** Listed series read at start (bounded). */
  maxSeries?: number;
};

/** A start-up refusal; `code` says which check failed. */
export class PreflightError extends Error {
  readonly code: "chainId" | "noCode" | "underlying" | "role" | "read";
  constructor(code: PreflightError["code"], message: string) {
    super(message);
    this.name = "PreflightError";
    this.code = code;
  }
}

export const KEEPER_ROLE = keccak256(toHex("KEEPER_ROLE"));
export const PROPOSER_ROLE = keccak256(toHex("PROPOSER_ROLE"));

async function requireCode(client: Client, what: string, address: Address): Promise<void> {
  const code = await client.getCode({ address });
  if (code === undefined || code === "0x") {
    throw new PreflightError("noCode", `${what} at ${address} has no contract code on this chain`);
  }
}

/** Resolves every address from the configured ones; throws PreflightError (see module doc). */
export async function resolveAddresses(
  client: Client,
  abis: Abis,
  input: ResolveInput,
): Promise<ChainAddresses> {
  const chainId = await client.getChainId();
  if (chainId !== input.chainId) {
    throw new PreflightError(
      "chainId",
      `chain id mismatch: the RPC endpoint is on chain ${chainId}, the config says ${input.chainId}`,
    );
  }
  await requireCode(client, "contracts.vault", input.vault);
  await requireCode(client, "contracts.perpAdapter", input.perpAdapter);
  if (input.optionsAdapter !== undefined)
    await requireCode(client, "contracts.optionsAdapter", input.optionsAdapter);

  const v = input.vault;
  const head = await multiRead(client, [
    call(v, abis.vault, "policy", []),
    call(v, abis.vault, "oracle", []),
    call(v, abis.vault, "approvals", []),
    call(v, abis.vault, "ledger", []),
    call(v, abis.vault, "quoteToken", []),
    call(v, abis.vault, "underlyings", []),
    call(input.perpAdapter, abis.perpAdapter, "venue", []),
    call(input.perpAdapter, abis.perpAdapter, "kind", []),
  ] as const);
  const r = (i: number, what: string) => {
    const x = head[i];
    if (x === undefined || !x.ok) {
      throw new PreflightError(
        "read",
        `${what}: ${x === undefined ? "no result" : x.error} (is ${v} a TreasuryVault?)`,
      );
    }
    return x.value;
  };
  const policy = r(0, "vault.policy()") as Address;
  const router = r(1, "vault.oracle()") as Address;
  const approvals = r(2, "vault.approvals()") as Address;
  const ledger = r(3, "vault.ledger()") as Address;
  const quoteToken = r(4, "vault.quoteToken()") as Address;
  const listed = (r(5, "vault.underlyings()") as readonly Address[]).map((a) => getAddress(a));
  const perpDex = r(6, "perpAdapter.venue()") as Address;
  if (r(7, "perpAdapter.kind()") !== 1) {
    throw new PreflightError(
      "read",
      `contracts.perpAdapter ${input.perpAdapter} is not a perp venue adapter`,
    );
  }
  for (const [what, a] of [
    ["vault.policy", policy],
    ["vault.oracle", router],
    ["vault.approvals", approvals],
    ["vault.ledger", ledger],
    ["vault.quoteToken", quoteToken],
    ["perp venue", perpDex],
  ] as const) {
    await requireCode(client, what, a);
  }

  let amm: Address | null = null;
  let surface: Address | null = null;
  let surfaceBounds: SurfaceBounds = { minVol: 0.01, maxVol: 5, maxAbsMoneyness: 3 };
  if (input.optionsAdapter !== undefined) {
    amm = need(
      (await multiRead(client, [call(input.optionsAdapter, abis.optionAdapter, "venue", [])] as const))[0],
      "optionsAdapter.venue()",
    );
    await requireCode(client, "options venue", amm);
    surface = need(
      (await multiRead(client, [call(amm, abis.amm, "surface", [])] as const))[0],
      "amm.surface()",
    );
    await requireCode(client, "volatility surface", surface);
    const [lo, hi, mk] = await multiRead(client, [
      call(surface, abis.surface, "MIN_VOL", []),
      call(surface, abis.surface, "MAX_VOL", []),
      call(surface, abis.surface, "MAX_ABS_MONEYNESS", []),
    ] as const);
    surfaceBounds = {
      minVol: Number(need(lo, "surface.MIN_VOL()")) / 1e18,
      maxVol: Number(need(hi, "surface.MAX_VOL()")) / 1e18,
      maxAbsMoneyness: Number(need(mk, "surface.MAX_ABS_MONEYNESS()")) / 1e18,
    };
  }

  const underlyings: UnderlyingInfo[] = [];
  for (const u of input.underlyings) {
    const token = getAddress(u.token);
    if (!listed.includes(token)) {
      throw new PreflightError(
        "underlying",
        `underlying ${u.symbol} (${token}) is not listed by the vault (it lists ${listed.join(", ") || "none"})`,
      );
    }
    await requireCode(client, `underlying ${u.symbol}`, token);
    const [dec, cfg] = await multiRead(client, [
      call(token, abis.erc20, "decimals", []),
      call(router, abis.router, "feedConfig", [token]),
    ] as const);
    const feedCfg = need(cfg, `router.feedConfig(${u.symbol})`);
    const feed = getAddress(feedCfg.feed);
    await requireCode(client, `oracle feed of ${u.symbol}`, feed);
    underlyings.push({
      symbol: u.symbol,
      token,
      decimals: need(dec, `${u.symbol}.decimals()`),
      feed,
      feedDecimals: feedCfg.decimals,
    });
  }
  const [qd] = await multiRead(client, [call(quoteToken, abis.erc20, "decimals", [])] as const);
  const spot = await resolveSpotVenue(client, abis, input, getAddress(quoteToken), underlyings);

  const series = new Map<bigint, SeriesInfo>();
  if (amm !== null) {
    const count = need(
      (await multiRead(client, [call(amm, abis.amm, "seriesCount", [])] as const))[0],
      "amm.seriesCount()",
    );
    const max = BigInt(input.maxSeries ?? 64);
    const first = count > max ? count - max + 1n : 1n;
    const ids: bigint[] = [];
    for (let id = first; id <= count; id++) ids.push(id);
    const infos = await multiRead(
      client,
      ids.map((id) => call(amm as Address, abis.amm, "seriesInfo", [id])),
    );
    ids.forEach((id, i) => {
      const s = infos[i];
      if (s === undefined || !s.ok) return;
      series.set(id, {
        id,
        underlying: getAddress(s.value.underlying),
        expiry: BigInt(s.value.expiry),
        isCall: s.value.isCall,
        strike: s.value.strike,
        cap: s.value.cap,
      });
    });
  }

  return {
    chainId,
    vault: getAddress(v),
    policy: getAddress(policy),
    router: getAddress(router),
    approvals: getAddress(approvals),
    ledger: getAddress(ledger),
    quoteToken: getAddress(quoteToken),
    quoteDecimals: need(qd as NonNullable<typeof qd>, "quoteToken.decimals()"),
    perpAdapter: getAddress(input.perpAdapter),
    perpDex: getAddress(perpDex),
    optionsAdapter: input.optionsAdapter === undefined ? null : getAddress(input.optionsAdapter),
    amm,
    surface,
    surfaceBounds,
    spot,
    underlyings,
    series,
  };
}

/**
 * The spot venue from the configured adapter and quoter, or null when neither is configured.
 * Refuses (PreflightError) one without the other, either without code, an adapter that is not a spot
 * adapter or trades against another quote token, and a quoter of another Uniswap factory than the
 * adapter's router (its quotes would price other pools).
 */
async function resolveSpotVenue(
  client: Client,
  abis: Abis,
  input: ResolveInput,
  quoteToken: Address,
  underlyings: UnderlyingInfo[],
): Promise<SpotVenue | null> {
  const { spotAdapter: adapter, spotQuoter: quoter } = input;
  if (adapter === undefined && quoter === undefined) return null;
  if (adapter === undefined || quoter === undefined) {
    throw new PreflightError(
      "read",
      "contracts.spotAdapter and contracts.spotQuoter must be configured together (or neither)",
    );
  }
  await requireCode(client, "contracts.spotAdapter", adapter);
  await requireCode(client, "contracts.spotQuoter", quoter);
  const [kind, venue, qt, fee, qf] = await multiRead(client, [
    call(adapter, abis.spotAdapter, "kind", []),
    call(adapter, abis.spotAdapter, "venue", []),
    call(adapter, abis.spotAdapter, "quoteToken", []),
    call(adapter, abis.spotAdapter, "poolFee", []),
    call(quoter, abis.quoterV2, "factory", []),
  ] as const);
  if (!kind.ok || kind.value !== 2 || !venue.ok || !qt.ok || !fee.ok) {
    throw new PreflightError(
      "read",
      `contracts.spotAdapter ${adapter} is not a Uniswap V3 spot venue adapter`,
    );
  }
  if (getAddress(qt.value) !== quoteToken) {
    throw new PreflightError(
      "read",
      `contracts.spotAdapter ${adapter} trades against ${qt.value}, the vault's quote token is ${quoteToken}`,
    );
  }
  if (!qf.ok)
    throw new PreflightError("read", `contracts.spotQuoter ${quoter} is not a QuoterV2 (${qf.error})`);
  const router = getAddress(venue.value);
  await requireCode(client, "spot venue router", router);
  const rf = need(
    (await multiRead(client, [call(router, abis.swapRouter, "factory", [])] as const))[0],
    "spot router.factory()",
  );
  const factory = getAddress(rf);
  if (getAddress(qf.value) !== factory) {
    throw new PreflightError(
      "read",
      `contracts.spotQuoter ${quoter} quotes factory ${qf.value}, the spot adapter's router trades on ${factory}`,
    );
  }
  const found = await multiRead(
    client,
    underlyings.map((u) => call(factory, abis.uniswapFactory, "getPool", [u.token, quoteToken, fee.value])),
  );
  const pools = new Map<Address, Address>();
  underlyings.forEach((u, i) => {
    const p = found[i];
    if (p !== undefined && p.ok && p.value !== zeroAddress) pools.set(u.token, getAddress(p.value));
  });
  return {
    adapter: getAddress(adapter),
    quoter: getAddress(quoter),
    router,
    factory,
    poolFee: fee.value,
    pools,
  };
}

/** Refuses to start unless `keeper` holds KEEPER_ROLE on the vault; reports PROPOSER_ROLE on approvals. */
export async function checkKeeperRoles(
  client: Client,
  abis: Abis,
  a: Pick<ChainAddresses, "vault" | "approvals">,
  keeper: Address,
): Promise<{ proposer: boolean }> {
  const [k, p] = await multiRead(client, [
    call(a.vault, abis.vault, "hasRole", [KEEPER_ROLE, keeper]),
    call(a.approvals, abis.approvals, "hasRole", [PROPOSER_ROLE, keeper]),
  ] as const);
  if (!need(k, "vault.hasRole(KEEPER_ROLE)")) {
    throw new PreflightError(
      "role",
      `keeper ${keeper} lacks KEEPER_ROLE on the vault ${a.vault}: refusing to start`,
    );
  }
  return { proposer: p.ok && p.value };
}

/** Multicall a single call (helper). */
export async function readOne<T>(
  client: Client,
  c: import("./multicall.ts").Call<T>,
  blockNumber?: bigint,
): Promise<T> {
  const [r] = await multiRead(client, [c] as const, blockNumber);
  return need(r as import("./multicall.ts").CallResult<T>, `${c.functionName}()`);
}
