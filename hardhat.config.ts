import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";

const require = createRequire(import.meta.url);
// solcjs from npm: Hardhat never downloads a compiler (no network on CI machines).
const solcPath = require.resolve("solc/soljson.js");
const deep = process.env.DEEP === "1";

export default defineConfig({
  plugins: [hardhatViem, hardhatNetworkHelpers],
  solidity: {
    version: "0.8.28",
    path: solcPath,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
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
      gasLimit: 1_000_000_000n,
    },
  },
  networks: {
    localhost: { type: "http", url: "http://127.0.0.1:8545" },
  },
});
