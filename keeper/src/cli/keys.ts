/**
 * The keeper's signing key, from one of two sources (never from the config file, never logged —
 * errors describe the problem, not the value):
 *
 * - `env` (default): the environment variable DELTAVAULT_KEEPER_KEY (0x + 64 hex digits);
 * - `keystore`: a secret of Hardhat 3's encrypted keystore (@nomicfoundation/hardhat-keystore,
 *   written by `npx hardhat keystore set <NAME>`), decrypted with the plugin's own code. The
 *   password comes from DELTAVAULT_KEYSTORE_PASSWORD or, on a terminal, a prompt that does not echo.
 */
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { privateKeyToAccount } from "viem/accounts";
import type { LocalAccount } from "viem";
import { z } from "zod";

export const KEY_ENV = "DELTAVAULT_KEEPER_KEY";
export const KEYSTORE_PASSWORD_ENV = "DELTAVAULT_KEYSTORE_PASSWORD";
export const KEY_SOURCES = ["env", "keystore"] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

/** An account from a private key that must be 0x + 64 hex digits; `what` names it in errors. */
function accountFromKey(raw: string, what: string): LocalAccount {
  const key = raw.trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new KeyError(
      `${what} is malformed: expected 0x followed by 64 hex digits (got ${key.length} characters)`,
    );
  }
  try {
    return privateKeyToAccount(key as `0x${string}`);
  } catch {
    throw new KeyError(`${what} is not a valid secp256k1 private key`);
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
  return accountFromKey(raw, KEY_ENV);
}

// --- Hardhat keystore -----------------------------------------------------------------------------

/**
 * Where `npx hardhat keystore set` keeps the production keystore: `keystore.json` in Hardhat's
 * global config directory (env-paths("hardhat"): `$XDG_CONFIG_HOME/hardhat-nodejs` or
 * `~/.config/hardhat-nodejs` on Linux, `~/Library/Preferences/hardhat-nodejs` on macOS,
 * `%APPDATA%\hardhat-nodejs\Config` on Windows). `npx hardhat keystore path` prints the same path.
 */
export function defaultKeystorePath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const name = "hardhat-nodejs";
  const nonEmpty = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);
  const dir =
    platform === "darwin"
      ? join(home, "Library", "Preferences", name)
      : platform === "win32"
        ? join(nonEmpty(env.APPDATA) ?? join(home, "AppData", "Roaming"), name, "Config")
        : join(nonEmpty(env.XDG_CONFIG_HOME) ?? join(home, ".config"), name);
  return join(dir, "keystore.json");
}

const hexBytes = z.string().regex(/^[0-9a-fA-F]*$/u, "expected hex without 0x");
const encrypted = z.object({ iv: hexBytes, cypherText: hexBytes });

/** The file format of hardhat-keystore 3 ("hardhat-v3-keystore-1"); validated before decryption. */
export const HardhatKeystoreSchema = z.object({
  version: z.literal("hardhat-v3-keystore-1"),
  crypto: z.object({
    masterKeyDerivation: z.object({
      algorithm: z.literal("scrypt"),
      paramN: z.number().int().positive(),
      paramP: z.number().int().positive(),
      paramR: z.number().int().positive(),
      unicodeNormalizationForm: z.literal("NFKC"),
      keyLength: z.literal(256),
      salt: hexBytes,
    }),
    encryption: z.object({ algorithm: z.literal("AES-GCM-SIV"), keyLength: z.literal(256) }),
    hmac: z.object({ algorithm: z.literal("HMAC-SHA-256"), keyLength: z.literal(256) }),
  }),
  dataEncryptionKey: encrypted,
  hmacKey: encrypted,
  hmac: hexBytes,
  secrets: z.record(z.string(), encrypted),
});
export type HardhatKeystore = z.infer<typeof HardhatKeystoreSchema>;

/** The functions of the plugin's encryption module the keeper uses (dist/src/internal/keystores/encryption.js). */
type KeystoreCrypto = {
  deriveMasterKeyFromKeystore: (a: { password: string; encryptedKeystore: HardhatKeystore }) => Uint8Array;
  decryptSecret: (a: { masterKey: Uint8Array; encryptedKeystore: HardhatKeystore; key: string }) => string;
};

let cryptoModule: Promise<KeystoreCrypto> | undefined;

/**
 * The plugin's own encryption code. Its package exports only its entry point, so the module is
 * loaded by file path next to the resolved package.json (the plugin version is pinned in
 * package.json); the exports it must have are checked at load.
 */
export function loadKeystoreCrypto(): Promise<KeystoreCrypto> {
  cryptoModule ??= (async () => {
    let pkg: string;
    try {
      pkg = createRequire(import.meta.url).resolve("@nomicfoundation/hardhat-keystore/package.json");
    } catch {
      throw new KeyError("the keystore key source needs @nomicfoundation/hardhat-keystore (npm install)");
    }
    const file = join(dirname(pkg), "dist", "src", "internal", "keystores", "encryption.js");
    const mod: unknown = await import(pathToFileURL(file).href);
    const fns = ["deriveMasterKeyFromKeystore", "decryptSecret"] as const;
    if (
      typeof mod !== "object" ||
      mod === null ||
      !fns.every((f) => typeof (mod as Record<string, unknown>)[f] === "function")
    ) {
      throw new KeyError(`${file} does not export ${fns.join(", ")}: unsupported hardhat-keystore version`);
    }
    return mod as KeystoreCrypto;
  })();
  cryptoModule.catch(() => (cryptoModule = undefined));
  return cryptoModule;
}

/** Hardhat's rule for keystore key names. */
const KEY_NAME = /^[a-zA-Z_]+[a-zA-Z0-9_]*$/u;

/** A stream the password prompt can read in raw mode (process.stdin on a terminal). */
export type HiddenInput = {
  setRawMode(mode: boolean): unknown;
  setEncoding(encoding: BufferEncoding): unknown;
  resume(): unknown;
  pause(): unknown;
  on(event: "data", listener: (chunk: string) => void): unknown;
  off(event: "data", listener: (chunk: string) => void): unknown;
};

/**
 * Reads one line from a terminal without echoing it: the prompt goes to `output`, the typed
 * characters do not. Enter ends it, backspace deletes, Ctrl-C / Ctrl-D-on-empty cancel (KeyError).
 */
export function promptHidden(
  question: string,
  input: HiddenInput,
  output: { write(s: string): unknown },
): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = "";
    const finish = (err: KeyError | null) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      output.write("\n");
      if (err === null) resolve(value);
      else reject(err);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003" || (ch === "\u0004" && value === "")) {
          return finish(new KeyError("password prompt cancelled"));
        }
        if (ch === "\u007f" || ch === "\b") value = [...value].slice(0, -1).join("");
        else if (ch >= " ") value += ch;
      }
    };
    output.write(question);
    input.setEncoding("utf8");
    input.setRawMode(true);
    input.on("data", onData);
    input.resume();
  });
}

export type KeystoreOptions = {
  /** The keystore secret's name (default DELTAVAULT_KEEPER_KEY). */
  keyName?: string;
  /** The keystore file (default: Hardhat's production keystore, see defaultKeystorePath). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Asks for the password when the environment has none; null: no terminal to ask on. */
  prompt?: ((question: string) => Promise<string>) | null;
};

/** The interactive prompt on process.stdin / stderr, or null when stdin is not a terminal. */
export function terminalPrompt(): ((question: string) => Promise<string>) | null {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) return null;
  return (q) => promptHidden(q, stdin, process.stderr);
}

/**
 * The signer stored under `keyName` in a Hardhat keystore file. Throws KeyError — naming the file
 * and the key, never the password or the value — when the file is missing or not a keystore, the
 * key is absent, no password is available, the password is wrong (or the file was tampered with),
 * or the value is not a private key.
 */
export async function signerFromKeystore(opts: KeystoreOptions = {}): Promise<LocalAccount> {
  const env = opts.env ?? process.env;
  const keyName = opts.keyName ?? KEY_ENV;
  if (!KEY_NAME.test(keyName)) {
    throw new KeyError(`--keystore-key "${keyName}" is not a keystore key name (letters, digits, _)`);
  }
  const file = opts.file ?? defaultKeystorePath(env);
  if (!existsSync(file)) {
    throw new KeyError(
      `keystore file ${file} does not exist: create it with \`npx hardhat keystore set ${keyName}\` (or pass --keystore-file <path>)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new KeyError(`keystore file ${file} is not readable JSON (${(e as Error).name})`);
  }
  const parsed = HardhatKeystoreSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new KeyError(`${file} is not a Hardhat keystore: ${issues.slice(0, 3).join("; ")}`);
  }
  const ks = parsed.data;
  if (!Object.hasOwn(ks.secrets, keyName)) {
    const names = Object.keys(ks.secrets);
    throw new KeyError(
      `key ${keyName} is not in keystore ${file} (it holds ${names.length === 0 ? "no keys" : names.join(", ")}): ` +
        `store it with \`npx hardhat keystore set ${keyName}\``,
    );
  }
  const fromEnv = env[KEYSTORE_PASSWORD_ENV];
  let password: string;
  if (fromEnv !== undefined && fromEnv !== "") password = fromEnv;
  else {
    const prompt = opts.prompt === undefined ? terminalPrompt() : opts.prompt;
    if (prompt === null) {
      throw new KeyError(
        `no keystore password: set ${KEYSTORE_PASSWORD_ENV} or run on a terminal to be asked for it`,
      );
    }
    password = await prompt(`keystore password (${file}): `);
  }
  const crypto = await loadKeystoreCrypto();
  let value: string;
  try {
    const masterKey = crypto.deriveMasterKeyFromKeystore({ password, encryptedKeystore: ks });
    value = crypto.decryptSecret({ masterKey, encryptedKeystore: ks, key: keyName });
  } catch (e) {
    // The plugin's errors name what failed, never the password or a value; match them by name.
    const name = (e as Error).name;
    if (name === "HmacKeyDecryptionError") {
      throw new KeyError(`wrong password for keystore ${file} (or the file is corrupted)`);
    }
    if (name === "InvalidHmacError") {
      throw new KeyError(
        `keystore ${file} failed its integrity check (HMAC mismatch): the file was modified`,
      );
    }
    if (name === "DecryptionError") {
      throw new KeyError(`cannot decrypt key ${keyName} in keystore ${file}: the file is corrupted`);
    }
    throw new KeyError(`cannot read key ${keyName} from keystore ${file} (${name})`);
  }
  // `hardhat keystore set` stores what was typed: accept the key with or without its 0x.
  const v = value.trim();
  return accountFromKey(/^[0-9a-fA-F]{64}$/u.test(v) ? `0x${v}` : v, `keystore key ${keyName}`);
}

export type KeyOptions = { source: KeySource } & KeystoreOptions;

/** The signer from the chosen source (env unless `source` is "keystore"). */
export async function loadSigner(o: KeyOptions): Promise<LocalAccount> {
  return o.source === "keystore" ? signerFromKeystore(o) : signerFromEnv(o.env ?? process.env);
}
