/**
 * Retries with exponential backoff for transient RPC failures only (connection refused/reset,
 * timeouts, HTTP 5xx): anything else — a revert above all — is rethrown at once.
 */
import { classifyError } from "../chain/errors.ts";

export type RetryPolicy = {
  /** Attempts in total (1 = no retry). */
  maxAttempts: number;
  initialMs: number;
  maxMs: number;
  factor: number;
};

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, initialMs: 100, maxMs: 5_000, factor: 2 };

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true || ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Delay before retry `attempt` (1-based): min(maxMs, initialMs × factor^(attempt − 1)). */
export function retryDelay(p: RetryPolicy, attempt: number): number {
  return Math.min(p.maxMs, p.initialMs * Math.pow(p.factor, Math.max(0, attempt - 1)));
}

/**
 * Runs `fn`, retrying transient failures per `policy`; `onRetry` is told each retry. A `signal`
 * stops the waiting (the last error is rethrown). Non-transient errors are rethrown immediately.
 */
export async function withRetry<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy = DEFAULT_RETRY,
  opts: { signal?: AbortSignal; onRetry?: (e: unknown, attempt: number, delayMs: number) => void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (classifyError(e) !== "transient" || attempt >= policy.maxAttempts || opts.signal?.aborted === true)
        throw e;
      const delay = retryDelay(policy, attempt);
      opts.onRetry?.(e, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}
