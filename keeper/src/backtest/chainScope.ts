/**
 * What the chain engine (scripts/backtest/chainEngine.ts) can replay, checked before a chain is
 * started: one underlying (ETH, the WETH market), the base policies (no options overlay) and a
 * linear book (no covered calls or written options: a replayed year outlives every expiry the
 * reference options venue lists). The rest runs on the model engine.
 */
import type { BacktestConfig, PolicySpec } from "./config.ts";
import type { MarketPath } from "./path.ts";

/** Why `config` / `policies` cannot run on the chain engine (empty: they can). */
export function chainEngineProblems(
  path: Pick<MarketPath, "underlying">,
  config: BacktestConfig,
  policies: readonly PolicySpec[],
): string[] {
  const out: string[] = [];
  if (path.underlying !== "ETH")
    out.push(`underlying ${path.underlying}: the chain engine replays ETH only (the WETH market)`);
  for (const p of policies)
    if (p.overlay) out.push(`policy ${p.name}: the options overlay runs on the model engine only`);
  if (config.treasury.coveredCalls !== null)
    out.push("treasury.coveredCalls: the option book runs on the model engine only (set it to null)");
  if (config.treasury.writtenOptions.length > 0)
    out.push("treasury.writtenOptions: the option book runs on the model engine only");
  if (config.treasury.spot <= 0) out.push("treasury.spot must be > 0 on the chain engine");
  // The chain clock is the path's shifted by whole days: a time policy must tick on day boundaries.
  for (const p of policies)
    if (p.kind === "time" && (24 % (p.intervalHours ?? 1) !== 0 || (p.intervalHours ?? 1) < 1))
      out.push(`policy ${p.name}: the chain engine runs time policies whose interval divides 24 h`);
  return out;
}
