/**
 * The keeper's signing key: from the environment variable DELTAVAULT_KEEPER_KEY (0x + 64 hex
 * digits), never from the config file, never logged (errors describe the problem, not the value).
 */
import { privateKeyToAccount } from "viem/accounts";
import type { LocalAccount } from "viem";

export const KEY_ENV = "DELTAVAULT_KEEPER_KEY";

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

/** The signer from `env[KEY_ENV]`; throws KeyError (without the value) when missing or malformed. */
export function signerFromEnv(env: NodeJS.ProcessEnv = process.env): LocalAccount {
  const raw = env[KEY_ENV];
  if (raw === undefined || raw.trim() === "") {
    throw new KeyError(
      `${KEY_ENV} is not set: export the keeper's private key (0x + 64 hex digits) in the environment`,
    );
  }
  const key = raw.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new KeyError(
      `${KEY_ENV} is malformed: expected 0x followed by 64 hex digits (got ${key.length} characters)`,
    );
  }
  try {
    return privateKeyToAccount(key as `0x${string}`);
  } catch {
    throw new KeyError(`${KEY_ENV} is not a valid secp256k1 private key`);
  }
}
