/**
 * pino JSON logs. Any field that could hold a secret (key, privateKey, secret, password, mnemonic,
 * token, authorization — at the top level or one/two levels deep) is redacted; the signing key is
 * never passed to the logger in the first place, and `scrub` removes any 32-byte hex string equal to
 * it from free text as a last line of defence.
 */
import { pino, type DestinationStream, type Logger } from "pino";

const SECRET_KEYS = [
  "key",
  "privateKey",
  "secret",
  "password",
  "mnemonic",
  "authorization",
  "apiKey",
  "seed",
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export function createLogger(
  opts: { level?: LogLevel; destination?: DestinationStream; name?: string } = {},
): Logger {
  const options = {
    name: opts.name ?? "deltavault-keeper",
    level: opts.level ?? "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { pid: process.pid },
    serializers: { err: pino.stdSerializers.err },
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}

/** Removes `secret` (a hex key, with or without 0x) from `text`. */
export function scrub(text: string, secret: string | null): string {
  if (secret === null || secret === "") return text;
  const bare = secret.replace(/^0x/i, "");
  if (bare.length < 16 || !/^[0-9a-fA-F]+$/.test(bare)) return text;
  return text.replace(new RegExp(bare, "gi"), "[redacted]");
}
