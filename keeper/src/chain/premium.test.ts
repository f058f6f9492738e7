import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { premiumBudgetRemaining } from "./state.ts";

const W = 10n ** 18n;
const DAY = 86_400;

describe("chain: option premium budget left in the vault's window", () => {
  const budget = 2_000_000n * W;
  const start = 1_700_000_000n;

  it("inside the window: budget − spent", () => {
    const p = { spentUsd: 750_000n * W, windowStart: start };
    expect(premiumBudgetRemaining(budget, p, DAY, start)).toBe(1_250_000n * W);
    expect(premiumBudgetRemaining(budget, p, DAY, start + 3_600n)).toBe(1_250_000n * W);
    // The last second of the window still counts what was spent (the vault resets at start + window).
    expect(premiumBudgetRemaining(budget, p, DAY, start + BigInt(DAY) - 1n)).toBe(1_250_000n * W);
  });

  it("once the window has run out (now ≥ start + window): the full budget", () => {
    const p = { spentUsd: 1_999_999n * W, windowStart: start };
    expect(premiumBudgetRemaining(budget, p, DAY, start + BigInt(DAY))).toBe(budget);
    expect(premiumBudgetRemaining(budget, p, DAY, start + 10n * BigInt(DAY))).toBe(budget);
    // Never bought: the zero record is an expired window.
    expect(premiumBudgetRemaining(budget, { spentUsd: 0n, windowStart: 0n }, DAY, start)).toBe(budget);
    // A zero-length window resets at every buy, as in the vault.
    expect(premiumBudgetRemaining(budget, p, 0, start)).toBe(budget);
  });

  it("never negative: spent at or above a (since lowered) budget leaves nothing", () => {
    expect(premiumBudgetRemaining(budget, { spentUsd: budget, windowStart: start }, DAY, start + 1n)).toBe(
      0n,
    );
    expect(
      premiumBudgetRemaining(500_000n * W, { spentUsd: 750_000n * W, windowStart: start }, DAY, start + 1n),
    ).toBe(0n);
  });

  it("property: 0 ≤ remaining ≤ budget, and remaining + spent = budget whenever the window is open and not overspent", () => {
    const wad = fc.bigInt({ min: 0n, max: 10n ** 30n });
    fc.assert(
      fc.property(
        wad,
        wad,
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.integer({ min: 0, max: 30 * DAY }),
        fc.bigInt({ min: 0n, max: 2n ** 41n }),
        (b, spent, ws, win, now) => {
          const r = premiumBudgetRemaining(b, { spentUsd: spent, windowStart: ws }, win, now);
          expect(r >= 0n && r <= b).toBe(true);
          const open = now < ws + BigInt(win);
          if (!open) expect(r).toBe(b);
          else if (spent <= b) expect(r + spent).toBe(b);
          else expect(r).toBe(0n);
        },
      ),
    );
  });
});
