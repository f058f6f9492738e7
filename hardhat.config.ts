import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatKeystore from "@nomicfoundation/hardhat-keystore";

const require = createRequire(import.meta.url);
// solcjs from npm: Hardhat never downloads a compiler (no network on CI machines).
const solcPath = require.resolve("solc/soljson.js");
const deep = process.env.DEEP === "1";

function solcSettings(runs: number) {
  return { optimizer: { enabled: true, runs }, evmVersion: "cancun" };
}

export default defineConfig({
  plugins: [hardhatViem, hardhatNetworkHelpers, hardhatKeystore],
  solidity: {
    compilers: [{ version: "0.8.28", path: solcPath, settings: solcSettings(200) }],
    overrides: {
      // At 200 runs the options AMM is over EIP-170 (24,576 bytes); runs = 1 fits it (24,555).
      "contracts/venues/options/OptionsAMM.sol": {
        version: "0.8.28",
        path: solcPath,
        settings: solcSettings(1),
      },
    },
  },
  paths: {
    sources: "contracts",
    tests: { solidity: "test/sol" },
  },
  test: {
    solidity: {
      // CI-sized campaigns; `npm run test:deep` (DEEP=1) runs the big ones.
      fuzz: { runs: deep ? 5000 : 256 },
      invariant: { runs: deep ? 256 : 24, depth: deep ? 200 : 40, failOnRevert: false },
      blockGasLimit: false,
      // Solidity tests deploy Uniswap V3 from its published artifacts.
      fsPermissions: { readDirectory: ["node_modules/@uniswap"] },
      gasLimit: 1_000_000_000n,
    },
  },
  networks: {
    localhost: { type: "http", url: "http://127.0.0.1:8545" },
    // A local node on another port (tests start `hardhat node` on a free port and set the URL).
    localhostTest: { type: "http", url: process.env.LOCALHOST_TEST_URL ?? "http://127.0.0.1:8546" },
    // Real network: values from the keystore (`npx hardhat keystore set SEPOLIA_RPC_URL`) or env.
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
});
