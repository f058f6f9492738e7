/**
 * The intended role wiring of a deployment, as ONE declarative table (contract, role, holder name),
 * resolved against a deployment state. The pipeline grants from it and `verifyRoles` checks the
 * chain against it, so the two cannot drift.
 *
 * After deployment: the Timelock holds every admin role (and owns the Uniswap V3 factory), the
 * guardian Safe holds GUARDIAN_ROLE, the Governor is the Timelock's proposer and canceller, anyone
 * may execute a ready Timelock operation, and the operational roles stay with their operators
 * (keeper, treasurer, finance, risk; on local networks the market operator mints test tokens and
 * reports prices on the managed feeds). No EOA holds an admin role.
 *
 * `verifyRoles` reads the chain: `hasRole` for every intended row, plus every holder discovered from
 * RoleGranted / RoleRevoked logs of every AccessControl contract in the deployment (confirmed with
 * `hasRole`), so an unintended holder (e.g. a deployer key that kept an admin role) is found.
 */
import {
  getAddress,
  isAddressEqual,
  keccak256,
  parseAbi,
  toHex,
  zeroAddress,
  zeroHash,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
} from "viem";
import type { DeploymentState, RoleRow } from "./state.ts";

/** Holder names resolved to contracts of the deployment. */
const CONTRACT_HOLDERS = {
  timelock: "DeltaVaultTimelock",
  governor: "DeltaVaultGovernor",
  guardianSafe: "GuardianSafe",
} as const;

/** Holder names resolved to accounts (`state.accounts`). */
export const ACCOUNT_HOLDERS = ["keeper", "treasurer", "finance", "risk", "marketOperator"] as const;

export type HolderName = keyof typeof CONTRACT_HOLDERS | (typeof ACCOUNT_HOLDERS)[number] | "anyone";

/** `role` is an AccessControl role name, or "owner" for an Ownable-style `owner()` (Uniswap factory). */
export interface IntendedRole {
  contract: string;
  role: string;
  holder: HolderName;
}

const admins = (contract: string, roles: string[]): IntendedRole[] =>
  roles.map((role) => ({ contract, role, holder: "timelock" }));

/** THE intended wiring. Rows whose contract is not part of a deployment are dropped when resolving. */
export const ROLE_TABLE: readonly IntendedRole[] = [
  ...["WETH", "WBTC", "USDC"].flatMap((t): IntendedRole[] => [
    ...admins(t, ["DEFAULT_ADMIN_ROLE"]),
    { contract: t, role: "MINTER_ROLE", holder: "marketOperator" },
  ]),
  ...["WETHFeed", "WBTCFeed"].flatMap((f): IntendedRole[] => [
    ...admins(f, ["DEFAULT_ADMIN_ROLE"]),
    { contract: f, role: "ORACLE_ROLE", holder: "marketOperator" },
  ]),
  ...admins("OracleRouter", ["DEFAULT_ADMIN_ROLE", "ORACLE_ADMIN_ROLE"]),
  ...admins("VolatilitySurface", ["DEFAULT_ADMIN_ROLE", "SURFACE_ADMIN_ROLE"]),
  ...admins("OptionsPool", ["DEFAULT_ADMIN_ROLE", "POOL_ADMIN_ROLE"]),
  ...admins("OptionsAMM", ["DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "LISTER_ROLE"]),
  ...admins("PerpDEX", ["DEFAULT_ADMIN_ROLE", "MARKET_ADMIN_ROLE"]),
  ...admins("RiskPolicy", ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"]),
  ...admins("TreasuryLedger", ["DEFAULT_ADMIN_ROLE"]),
  { contract: "TreasuryLedger", role: "TREASURER_ROLE", holder: "treasurer" },
  ...admins("HedgeApprovals", ["DEFAULT_ADMIN_ROLE"]),
  { contract: "HedgeApprovals", role: "PROPOSER_ROLE", holder: "keeper" },
  { contract: "HedgeApprovals", role: "FINANCE_ROLE", holder: "finance" },
  { contract: "HedgeApprovals", role: "RISK_ROLE", holder: "risk" },
  ...admins("TreasuryVault", ["DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE"]),
  { contract: "TreasuryVault", role: "GUARDIAN_ROLE", holder: "guardianSafe" },
  { contract: "TreasuryVault", role: "KEEPER_ROLE", holder: "keeper" },
  { contract: "TreasuryVault", role: "TREASURER_ROLE", holder: "treasurer" },
  ...admins("DeltaVaultTimelock", ["DEFAULT_ADMIN_ROLE"]),
  { contract: "DeltaVaultTimelock", role: "PROPOSER_ROLE", holder: "governor" },
  { contract: "DeltaVaultTimelock", role: "CANCELLER_ROLE", holder: "governor" },
  { contract: "DeltaVaultTimelock", role: "EXECUTOR_ROLE", holder: "anyone" },
  { contract: "UniswapV3Factory", role: "owner", holder: "timelock" },
];

/** Every role name the contracts define (ids of unknown roles are printed as hex). */
const KNOWN_ROLE_NAMES = [
  "DEFAULT_ADMIN_ROLE",
  ...new Set([
    ...ROLE_TABLE.map((r) => r.role).filter((r) => r !== "owner"),
    "ORACLE_ROLE",
    "MINTER_ROLE",
    "EXECUTOR_ROLE",
  ]),
];

/** AccessControl role id (DEFAULT_ADMIN_ROLE is bytes32(0)). */
export function roleIdOf(name: string): Hex {
  return name === "DEFAULT_ADMIN_ROLE" ? zeroHash : keccak256(toHex(name));
}

const ROLE_NAME_BY_ID = new Map<string, string>(KNOWN_ROLE_NAMES.map((n) => [roleIdOf(n), n]));

/**
 * Admin-class ("governed") roles: DEFAULT_ADMIN_ROLE, any *_ADMIN_ROLE, GOVERNANCE_ROLE, the
 * options AMM's PARAMS_ROLE / LISTER_ROLE, the Timelock's PROPOSER_ROLE / CANCELLER_ROLE and an
 * Ownable owner. No EOA may hold one after deployment.
 */
export function isAdminRole(contract: string, role: string): boolean {
  if (role === "DEFAULT_ADMIN_ROLE" || role === "GOVERNANCE_ROLE" || role === "owner") return true;
  if (role.endsWith("_ADMIN_ROLE")) return true;
  if (contract === "OptionsAMM" && (role === "PARAMS_ROLE" || role === "LISTER_ROLE")) return true;
  if (contract === "DeltaVaultTimelock" && (role === "PROPOSER_ROLE" || role === "CANCELLER_ROLE"))
    return true;
  return false;
}

/** One intended (contract, role, holder) fact with addresses resolved. */
export interface ResolvedRole {
  contract: string;
  address: Address;
  role: string;
  /** null for "owner". */
  roleId: Hex | null;
  holder: Address;
  holderName: HolderName;
  admin: boolean;
}

type StateView = Pick<DeploymentState, "contracts" | "accounts">;

/** Address of a holder name in a deployment (throws when the deployment lacks it). */
export function resolveHolder(state: StateView, holder: HolderName): Address {
  if (holder === "anyone") return zeroAddress;
  if (holder in CONTRACT_HOLDERS) {
    const name = CONTRACT_HOLDERS[holder as keyof typeof CONTRACT_HOLDERS];
    const record = state.contracts[name];
    if (!record) throw new Error(`role holder "${holder}" needs contract ${name}, which is not deployed`);
    return record.address;
  }
  const account = state.accounts[holder];
  if (!account) throw new Error(`role holder "${holder}" has no address in the deployment's accounts`);
  return account;
}

/** The table resolved against a deployment (rows of contracts it does not have are dropped). */
export function intendedRoles(state: StateView): ResolvedRole[] {
  return ROLE_TABLE.flatMap((r) => {
    const record = state.contracts[r.contract];
    if (!record) return [];
    return [
      {
        contract: r.contract,
        address: record.address,
        role: r.role,
        roleId: r.role === "owner" ? null : roleIdOf(r.role),
        holder: resolveHolder(state, r.holder),
        holderName: r.holder,
        admin: isAdminRole(r.contract, r.role),
      },
    ];
  });
}

/** The `roles` list written to deployments/<network>.json. */
export function roleRows(state: StateView): RoleRow[] {
  return intendedRoles(state).map((r) => ({
    contract: r.contract,
    role: r.role,
    holder: r.holder,
    holderName: r.holderName,
  }));
}

// ---------------------------------------------------------------------------------------------
// Verification against the chain
// ---------------------------------------------------------------------------------------------

export const accessControlAbi = parseAbi([
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function getRoleAdmin(bytes32 role) view returns (bytes32)",
  "function grantRole(bytes32 role, address account)",
  "function renounceRole(bytes32 role, address callerConfirmation)",
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
]);
export const ownableAbi = parseAbi([
  "function owner() view returns (address)",
  "function setOwner(address _owner)",
]);
const safeViewAbi = parseAbi([
  "function getOwners() view returns (address[])",
  "function getThreshold() view returns (uint256)",
]);

type AnyPublicClient = PublicClient<Transport, Chain | undefined>;

export type HolderKind = "contract" | "eoa" | "anyone";

export interface RoleCheckRow {
  contract: string;
  address: Address;
  role: string;
  holderName: string;
  holder: Address;
  holderKind: HolderKind;
  admin: boolean;
  intended: boolean;
  held: boolean;
  /** ok: intended and held; missing: intended, not held; unexpected: held, not intended. */
  status: "ok" | "missing" | "unexpected";
}

export interface RoleProblem {
  kind: "missing" | "unexpected" | "eoa-admin" | "safe";
  message: string;
}

export interface RoleReport {
  ok: boolean;
  rows: RoleCheckRow[];
  problems: RoleProblem[];
}

/** EOA = no code (an EIP-7702 delegation designator 0xef0100… is still an EOA). */
async function holderKind(client: AnyPublicClient, account: Address): Promise<HolderKind> {
  if (isAddressEqual(account, zeroAddress)) return "anyone";
  const code = await client.getCode({ address: account });
  if (!code || code === "0x" || code.toLowerCase().startsWith("0xef0100")) return "eoa";
  return "contract";
}

/** Accounts holding roles on `address` now: RoleGranted/RoleRevoked folded in log order, then hasRole. */
async function discoverHolders(
  client: AnyPublicClient,
  address: Address,
  fromBlock: bigint,
  toBlock: bigint,
  chunk: bigint,
): Promise<Array<{ roleId: Hex; account: Address }>> {
  const events: Array<{ granted: boolean; roleId: Hex; account: Address; block: bigint; index: number }> = [];
  for (let start = fromBlock; start <= toBlock; start += chunk) {
    const end = start + chunk - 1n < toBlock ? start + chunk - 1n : toBlock;
    const logs = await client.getContractEvents({
      address,
      abi: accessControlAbi,
      fromBlock: start,
      toBlock: end,
    });
    for (const log of logs) {
      if (log.eventName !== "RoleGranted" && log.eventName !== "RoleRevoked") continue;
      const { role, account } = log.args;
      if (role === undefined || account === undefined) continue;
      events.push({
        granted: log.eventName === "RoleGranted",
        roleId: role,
        account: getAddress(account),
        block: log.blockNumber,
        index: log.logIndex,
      });
    }
  }
  events.sort((a, b) => (a.block === b.block ? a.index - b.index : a.block < b.block ? -1 : 1));
  const current = new Map<string, { roleId: Hex; account: Address }>();
  for (const e of events) {
    const key = `${e.roleId}:${e.account}`;
    if (e.granted) current.set(key, { roleId: e.roleId, account: e.account });
    else current.delete(key);
  }
  const candidates = [...current.values()];
  const held = await Promise.all(
    candidates.map((c) =>
      client.readContract({
        address,
        abi: accessControlAbi,
        functionName: "hasRole",
        args: [c.roleId, c.account],
      }),
    ),
  );
  return candidates.filter((_, i) => held[i]);
}

/** Names for addresses of the deployment (accounts, deployer, contracts). */
function addressBook(state: DeploymentState): Map<string, string> {
  const book = new Map<string, string>();
  for (const [name, record] of Object.entries(state.contracts)) book.set(record.address.toLowerCase(), name);
  book.set(state.deployer.toLowerCase(), "deployer");
  for (const [name, account] of Object.entries(state.accounts)) {
    const key = account.toLowerCase();
    const prev = book.get(key);
    book.set(key, prev ? `${prev}/${name}` : name);
  }
  for (const [holder, contract] of Object.entries(CONTRACT_HOLDERS)) {
    const record = state.contracts[contract];
    if (record) book.set(record.address.toLowerCase(), holder);
  }
  book.set(zeroAddress, "anyone");
  return book;
}

export interface VerifyRolesOptions {
  /** Max block span of one eth_getLogs request (public RPCs cap it). Default 50,000. */
  logChunk?: bigint;
}

/**
 * Reads the chain and compares every role of the deployment with the intended wiring. `ok` is true
 * only when every intended row is held, nobody else holds any role on the deployment's
 * AccessControl contracts, no EOA holds an admin-class role and the guardian Safe has the recorded
 * owners and threshold.
 */
export async function verifyRoles(
  client: AnyPublicClient,
  state: DeploymentState,
  options: VerifyRolesOptions = {},
): Promise<RoleReport> {
  const chunk = options.logChunk ?? 50_000n;
  const intended = intendedRoles(state);
  const book = addressBook(state);
  const nameOf = (a: Address) => book.get(a.toLowerCase()) ?? "?";
  const kinds = new Map<string, HolderKind>();
  const kindOf = async (a: Address): Promise<HolderKind> => {
    const cached = kinds.get(a.toLowerCase());
    if (cached) return cached;
    const k = await holderKind(client, a);
    kinds.set(a.toLowerCase(), k);
    return k;
  };
  const rows: RoleCheckRow[] = [];
  const problems: RoleProblem[] = [];
  const latest = await client.getBlockNumber();

  // 1. Intended rows: held?
  for (const r of intended) {
    let held: boolean;
    if (r.roleId === null) {
      const owner = await client.readContract({ address: r.address, abi: ownableAbi, functionName: "owner" });
      held = isAddressEqual(owner, r.holder);
      if (!held) {
        rows.push({
          contract: r.contract,
          address: r.address,
          role: r.role,
          holderName: nameOf(getAddress(owner)),
          holder: getAddress(owner),
          holderKind: await kindOf(owner),
          admin: r.admin,
          intended: false,
          held: true,
          status: "unexpected",
        });
      }
    } else {
      held = await client.readContract({
        address: r.address,
        abi: accessControlAbi,
        functionName: "hasRole",
        args: [r.roleId, r.holder],
      });
    }
    rows.push({
      contract: r.contract,
      address: r.address,
      role: r.role,
      holderName: r.holderName,
      holder: r.holder,
      holderKind: await kindOf(r.holder),
      admin: r.admin,
      intended: true,
      held,
      status: held ? "ok" : "missing",
    });
  }

  // 2. Discovery: every current holder of any role on every AccessControl contract of the deployment.
  const accessControlled = [...new Set(intended.filter((r) => r.roleId !== null).map((r) => r.contract))];
  for (const contract of accessControlled) {
    const record = state.contracts[contract];
    if (!record) continue;
    const holders = await discoverHolders(client, record.address, BigInt(record.blockNumber), latest, chunk);
    for (const h of holders) {
      const isIntended = intended.some(
        (r) => r.contract === contract && r.roleId === h.roleId && isAddressEqual(r.holder, h.account),
      );
      if (isIntended) continue;
      const role = ROLE_NAME_BY_ID.get(h.roleId) ?? h.roleId;
      rows.push({
        contract,
        address: record.address,
        role,
        holderName: nameOf(h.account),
        holder: h.account,
        holderKind: await kindOf(h.account),
        admin: isAdminRole(contract, role) || !ROLE_NAME_BY_ID.has(h.roleId),
        intended: false,
        held: true,
        status: "unexpected",
      });
    }
  }

  for (const row of rows) {
    const where = `${row.contract}.${row.role}`;
    if (row.status === "missing") {
      problems.push({
        kind: "missing",
        message: `${where}: ${row.holderName} ${row.holder} does not hold it`,
      });
    }
    if (row.status === "unexpected") {
      problems.push({
        kind: "unexpected",
        message: `${where}: held by ${row.holderName} ${row.holder}, which the wiring does not intend`,
      });
    }
    if (row.held && row.admin && row.holderKind === "eoa") {
      problems.push({
        kind: "eoa-admin",
        message: `${where}: admin role held by EOA ${row.holderName} ${row.holder}`,
      });
    }
  }

  // 3. The guardian Safe's owners and threshold.
  const safe = state.contracts.GuardianSafe;
  if (safe && state.safe) {
    const [owners, threshold] = await Promise.all([
      client.readContract({ address: safe.address, abi: safeViewAbi, functionName: "getOwners" }),
      client.readContract({ address: safe.address, abi: safeViewAbi, functionName: "getThreshold" }),
    ]);
    const want = state.safe;
    const same =
      owners.length === want.owners.length &&
      want.owners.every((o) => owners.some((x) => isAddressEqual(x, o)));
    if (!same || threshold !== BigInt(want.threshold)) {
      problems.push({
        kind: "safe",
        message: `GuardianSafe: ${threshold}-of-[${owners.join(", ")}], intended ${want.threshold}-of-[${want.owners.join(", ")}]`,
      });
    }
  }

  return { ok: problems.length === 0, rows, problems };
}

/** The report as a fixed-width table plus one line per problem. */
export function formatRoleReport(report: RoleReport): string {
  const header = ["contract", "role", "holder", "address", "kind", "status"];
  const body = report.rows.map((r) => [
    r.contract,
    r.role,
    r.holderName,
    r.holder,
    r.holderKind,
    r.status === "ok" ? "ok" : r.status.toUpperCase(),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const out = [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
  out.push("");
  if (report.ok)
    out.push(`roles OK: ${report.rows.length} rows match the intended wiring, no EOA holds an admin role`);
  else {
    out.push(`roles DIFFER from the intended wiring (${report.problems.length} problems):`);
    for (const p of report.problems) out.push(`  [${p.kind}] ${p.message}`);
  }
  return out.join("\n");
}
