/**
 * The role matrix of AccessControl contracts rebuilt from the chain alone: role names come from the
 * contract's ABI (every `X_ROLE()` constant getter, plus DEFAULT_ADMIN_ROLE), role ids from calling
 * those getters, and holders from folding every RoleGranted / RoleRevoked event in order, each
 * holder then confirmed with `hasRole`.
 */
import { getAddress, type Abi, type Address, type Hex } from "viem";
import { accessControlAbi } from "./abis.ts";
import type { AnyPublicClient } from "./proposal.ts";

/** Names of the role-constant getters in `abi` (view, no inputs, one bytes32 output, name ends in _ROLE). */
export function roleNamesFromAbi(abi: Abi): string[] {
  const names = abi.flatMap((item) =>
    item.type === "function" &&
    item.name.endsWith("_ROLE") &&
    item.inputs.length === 0 &&
    item.outputs.length === 1 &&
    item.outputs[0]?.type === "bytes32"
      ? [item.name]
      : [],
  );
  return [...new Set(names)].sort();
}

export interface RoleHolders {
  role: string;
  roleId: Hex;
  holders: Address[];
}

/** Current holders of each named role of the contract at `address`. */
export async function roleHolders(
  publicClient: AnyPublicClient,
  address: Address,
  roleNames: readonly string[],
): Promise<RoleHolders[]> {
  const ids = await Promise.all(
    roleNames.map((name) =>
      publicClient.readContract({
        address,
        abi: [
          { type: "function", name, stateMutability: "view", inputs: [], outputs: [{ type: "bytes32" }] },
        ],
        functionName: name,
      }),
    ),
  );
  const [granted, revoked] = await Promise.all([
    publicClient.getContractEvents({
      address,
      abi: accessControlAbi,
      eventName: "RoleGranted",
      fromBlock: 0n,
    }),
    publicClient.getContractEvents({
      address,
      abi: accessControlAbi,
      eventName: "RoleRevoked",
      fromBlock: 0n,
    }),
  ]);
  const events = [...granted, ...revoked].sort((a, b) =>
    a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
  );
  const holders = new Map<Hex, Set<Address>>();
  for (const e of events) {
    const { role, account } = e.args;
    if (role === undefined || account === undefined) continue;
    const set = holders.get(role) ?? new Set<Address>();
    if (e.eventName === "RoleGranted") set.add(getAddress(account));
    else set.delete(getAddress(account));
    holders.set(role, set);
  }
  return Promise.all(
    roleNames.map(async (role, i) => {
      const roleId = ids[i] as Hex;
      const candidates = [...(holders.get(roleId) ?? [])];
      const confirmed = await Promise.all(
        candidates.map((account) =>
          publicClient.readContract({
            address,
            abi: accessControlAbi,
            functionName: "hasRole",
            args: [roleId, account],
          }),
        ),
      );
      return { role, roleId, holders: candidates.filter((_, j) => confirmed[j]) };
    }),
  );
}
