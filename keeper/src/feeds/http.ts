/**
 * JSON-over-HTTP provider adapter: polls a URL, validates each payload with a zod schema and yields
 * it with its receive time.
 *
 * Failure policy:
 * - retryable (exponential backoff with jitter, then the poll continues): network errors, request
 *   timeouts (AbortSignal.timeout), HTTP 5xx, 408 and 429;
 * - fatal (the iterator throws an {@link HttpFeedError}): any other non-2xx status, a body that is not
 *   JSON, a payload that fails the schema (the error names the failing field path), or more than
 *   `maxConsecutiveFailures` retryable failures in a row.
 * Aborting `signal` ends the iteration quietly (also during a request or a backoff wait).
 */
import type { z } from "zod";

export type Backoff = {
  /** First retry delay. */
  initialMs: number;
  /** Delay cap. */
  maxMs: number;
  /** Growth per consecutive failure (2 = doubling). */
  factor: number;
  /** Relative jitter in [0, 1]: the delay is scaled by a uniform factor in [1 − jitter, 1 + jitter]. */
  jitter: number;
};

export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 30_000, factor: 2, jitter: 0.2 };

export type HttpFeedErrorKind = "network" | "timeout" | "status" | "json" | "schema" | "exhausted";

/** A failed poll. `path` names the first failing field for schema errors (e.g. "data.0.price"). */
export class HttpFeedError extends Error {
  readonly kind: HttpFeedErrorKind;
  readonly url: string;
  readonly status: number | undefined;
  readonly path: string | undefined;
  readonly issues: readonly { path: string; message: string }[];
  readonly retryable: boolean;
  constructor(
    kind: HttpFeedErrorKind,
    url: string,
    message: string,
    extra: { status?: number; issues?: { path: string; message: string }[]; cause?: unknown } = {},
  ) {
    super(`${kind}: ${url}: ${message}`, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = "HttpFeedError";
    this.kind = kind;
    this.url = url;
    this.status = extra.status;
    this.issues = extra.issues ?? [];
    this.path = this.issues[0]?.path;
    this.retryable =
      kind === "network" ||
      kind === "timeout" ||
      (kind === "status" &&
        extra.status !== undefined &&
        (extra.status >= 500 || extra.status === 408 || extra.status === 429));
  }
}

export type PollOptions<S extends z.ZodType> = {
  url: string;
  schema: S;
  /** Time between the starts of successive successful polls. */
  intervalMs: number;
  /** Per-request timeout (headers and body). */
  timeoutMs: number;
  backoff?: Partial<Backoff>;
  signal?: AbortSignal;
  /** Give up (throw kind "exhausted") after this many consecutive retryable failures; default ∞. */
  maxConsecutiveFailures?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Called before each backoff wait (for metrics/logs). */
  onRetry?: (info: { error: HttpFeedError; attempt: number; delayMs: number }) => void;
  /** Clock and randomness, injectable for tests; defaults Date.now and Math.random. */
  now?: () => number;
  random?: () => number;
  fetch?: typeof globalThis.fetch;
};

export type PollResult<T> = {
  value: T;
  /** Wall-clock time the payload was fully received. */
  receiveTime: number;
  /** Request round-trip in ms. */
  latencyMs: number;
  /** Attempts it took (1 = first try). */
  attempts: number;
};

/** Delay before retry number `attempt` (1-based): min(maxMs, initialMs·factor^(attempt−1)) ± jitter. */
export function backoffDelay(b: Backoff, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, Math.max(0, attempt - 1)));
  const j = Math.min(1, Math.max(0, b.jitter));
  return Math.max(0, Math.round(base * (1 - j + 2 * j * random())));
}

/** Formats a zod issue path as "a.b.0.c" ("" for the root). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join(".");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** One GET + parse + validate. Throws HttpFeedError (or rethrows the caller's abort). */
export async function fetchJson<S extends z.ZodType>(
  url: string,
  schema: S,
  timeoutMs: number,
  opts: { signal?: AbortSignal; headers?: Record<string, string>; fetch?: typeof globalThis.fetch } = {},
): Promise<z.output<S>> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal === undefined ? timeout : AbortSignal.any([opts.signal, timeout]);
  const doFetch = opts.fetch ?? globalThis.fetch;
  let text: string;
  let status: number;
  try {
    const res = await doFetch(url, { signal, headers: { accept: "application/json", ...opts.headers } });
    status = res.status;
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new HttpFeedError("status", url, `HTTP ${res.status}`, { status: res.status });
    }
    text = await res.text();
  } catch (e) {
    if (e instanceof HttpFeedError) throw e;
    if (opts.signal?.aborted === true) throw e;
    if (timeout.aborted)
      throw new HttpFeedError("timeout", url, `no complete response within ${timeoutMs} ms`, { cause: e });
    throw new HttpFeedError("network", url, e instanceof Error ? e.message : String(e), { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HttpFeedError("json", url, `body is not JSON (HTTP ${status})`, { status, cause: e });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message }));
    const first = issues[0];
    throw new HttpFeedError(
      "schema",
      url,
      `payload failed validation at "${first?.path ?? ""}": ${first?.message ?? ""}`,
      { status, issues },
    );
  }
  return parsed.data;
}

/**
 * Polls `url` every `intervalMs`, yielding validated payloads. See the module comment for the
 * retry policy. The iterator ends when `signal` aborts.
 */
export async function* pollJson<S extends z.ZodType>(
  options: PollOptions<S>,
): AsyncGenerator<PollResult<z.output<S>>, void, undefined> {
  const backoff: Backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const maxFailures = options.maxConsecutiveFailures ?? Number.POSITIVE_INFINITY;
  const { signal } = options;
  const aborted = (): boolean => signal?.aborted === true;
  let failures = 0;
  while (!aborted()) {
    const started = now();
    let value: z.output<S>;
    try {
      value = await fetchJson(options.url, options.schema, options.timeoutMs, {
        signal,
        headers: options.headers,
        fetch: options.fetch,
      });
    } catch (e) {
      if (aborted()) return;
      if (!(e instanceof HttpFeedError)) throw e;
      if (!e.retryable) throw e;
      failures++;
      if (failures > maxFailures) {
        throw new HttpFeedError(
          "exhausted",
          options.url,
          `${failures} consecutive failures, last: ${e.message}`,
          {
            status: e.status,
            cause: e,
          },
        );
      }
      const delayMs = backoffDelay(backoff, failures, random);
      options.onRetry?.({ error: e, attempt: failures, delayMs });
      await sleep(delayMs, signal);
      continue;
    }
    const receiveTime = now();
    const attempts = failures + 1;
    failures = 0;
    yield { value, receiveTime, latencyMs: receiveTime - started, attempts };
    const wait = started + options.intervalMs - now();
    if (wait > 0) await sleep(wait, signal);
  }
}
