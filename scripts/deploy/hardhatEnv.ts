/** The commands' environment from Hardhat's runtime (network from `--network`). */
import type { HardhatRuntimeEnvironment } from "hardhat/types/hre";
import type { CommandEnv } from "./commands.ts";

export function hardhatEnv(hre: HardhatRuntimeEnvironment): CommandEnv {
  const userNetworks = hre.userConfig.networks ?? {};
  const networks: CommandEnv["networks"] = {};
  for (const [name, net] of Object.entries(hre.config.networks)) {
    const user = userNetworks[name];
    networks[name] = { type: net.type, url: user && "url" in user ? user.url : undefined };
  }
  return {
    connect: async (name) => (await hre.network.create(name)).viem,
    artifacts: hre.artifacts,
    networkName: hre.globalOptions.network,
    networks,
    dir: process.env.DEPLOYMENTS_DIR ?? "deployments",
    out: (line) => console.log(line),
  };
}
