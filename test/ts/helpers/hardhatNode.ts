/**
 * `npx hardhat node` as a child process for tests that run the project's commands the way a user
 * does: a free port, its own process group (so stopping it also stops the node npx started), a
 * readiness wait on eth_chainId, raw JSON-RPC, and `npm run -s <script>` runs with captured output.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { z } from "zod";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One JSON-RPC call; returns `result` (throws on transport errors or a missing result). */
export async function jsonRpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = z.object({ result: z.unknown() }).parse(await res.json());
  return body.result;
}

export type HardhatNode = { url: string; stop: () => void };

/** Starts `npx hardhat node` on a free port and waits (up to 90 s) until it answers with chain 31337. */
export async function startHardhatNode(): Promise<HardhatNode> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node: ChildProcess = spawn("npx", ["hardhat", "node", "--port", String(port)], {
    detached: true,
    stdio: "ignore",
  });
  const stop = () => {
    if (node.pid === undefined) return;
    try {
      process.kill(-node.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      if ((await jsonRpc(url, "eth_chainId")) === "0x7a69") return { url, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stop();
      throw new Error(`hardhat node did not start on ${url}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `npm run -s <args>` with extra environment; resolves with the exit code and stdout + stderr. */
export function runNpm(
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "-s", ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code: code ?? -1, out }));
  });
}
