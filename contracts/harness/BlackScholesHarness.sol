// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BlackScholes} from "../libraries/BlackScholes.sol";

/// @title BlackScholesHarness
/// @notice External wrappers around the internal `BlackScholes` library, for tests and benchmarks.
contract BlackScholesHarness {
    /// @notice One pricing input (see BlackScholes for units).
    struct Input {
        uint256 spot;
        uint256 strike;
        uint256 tau;
        uint256 vol;
        uint256 rate;
        bool isCall;
    }

    /// @notice Price and greeks of one option.
    /// @param spot Spot (WAD quote units).
    /// @param strike Strike (WAD quote units).
    /// @param tau Years to expiry (WAD).
    /// @param vol Annualised volatility (WAD).
    /// @param rate Continuously compounded rate (WAD).
    /// @param isCall Call (true) or put (false).
    /// @return g Price and greeks.
    function greeks(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate, bool isCall)
        external
        pure
        returns (BlackScholes.Greeks memory g)
    {
        g = BlackScholes.greeks(spot, strike, tau, vol, rate, isCall);
    }

    /// @notice Price and greeks plus the gas spent inside the library call (gasleft() difference).
    /// @param spot Spot (WAD quote units).
    /// @param strike Strike (WAD quote units).
    /// @param tau Years to expiry (WAD).
    /// @param vol Annualised volatility (WAD).
    /// @param rate Continuously compounded rate (WAD).
    /// @param isCall Call (true) or put (false).
    /// @return g Price and greeks.
    /// @return gasUsed Gas used by `BlackScholes.greeks` (includes the result struct allocation).
    function measureGreeks(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate, bool isCall)
        external
        view
        returns (BlackScholes.Greeks memory g, uint256 gasUsed)
    {
        uint256 before = gasleft();
        g = BlackScholes.greeks(spot, strike, tau, vol, rate, isCall);
        gasUsed = before - gasleft();
    }

    /// @notice Price only, plus the gas spent inside the library call.
    /// @param spot Spot (WAD quote units).
    /// @param strike Strike (WAD quote units).
    /// @param tau Years to expiry (WAD).
    /// @param vol Annualised volatility (WAD).
    /// @param rate Continuously compounded rate (WAD).
    /// @param isCall Call (true) or put (false).
    /// @return p Option price (WAD quote units).
    /// @return gasUsed Gas used by `BlackScholes.price`.
    function measurePrice(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate, bool isCall)
        external
        view
        returns (uint256 p, uint256 gasUsed)
    {
        uint256 before = gasleft();
        p = BlackScholes.price(spot, strike, tau, vol, rate, isCall);
        gasUsed = before - gasleft();
    }

    /// @notice Option price (see BlackScholes.price).
    /// @param spot Spot (WAD quote units).
    /// @param strike Strike (WAD quote units).
    /// @param tau Years to expiry (WAD).
    /// @param vol Annualised volatility (WAD).
    /// @param rate Continuously compounded rate (WAD).
    /// @param isCall Call (true) or put (false).
    /// @return Option price (WAD quote units).
    function price(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate, bool isCall)
        external
        pure
        returns (uint256)
    {
        return BlackScholes.price(spot, strike, tau, vol, rate, isCall);
    }

    /// @notice Option delta (see BlackScholes.delta).
    /// @param spot Spot (WAD quote units).
    /// @param strike Strike (WAD quote units).
    /// @param tau Years to expiry (WAD).
    /// @param vol Annualised volatility (WAD).
    /// @param rate Continuously compounded rate (WAD).
    /// @param isCall Call (true) or put (false).
    /// @return Delta (WAD units of underlying).
    function delta(uint256 spot, uint256 strike, uint256 tau, uint256 vol, uint256 rate, bool isCall)
        external
        pure
        returns (int256)
    {
        return BlackScholes.delta(spot, strike, tau, vol, rate, isCall);
    }

    /// @notice Greeks and gas for many inputs at once (bounded by the caller's gas limit).
    /// @dev `gasUsed` here also pays for reading the inputs from calldata and for memory expansion,
    /// which grows along the batch; use `measureGreeks` for the cost of one call.
    /// @param inputs Pricing inputs.
    /// @return out Price and greeks per input.
    /// @return gasUsed Gas used around `BlackScholes.greeks` per input (see @dev).
    function batchGreeks(Input[] calldata inputs)
        external
        view
        returns (BlackScholes.Greeks[] memory out, uint256[] memory gasUsed)
    {
        uint256 n = inputs.length;
        out = new BlackScholes.Greeks[](n);
        gasUsed = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            Input calldata x = inputs[i];
            uint256 before = gasleft();
            BlackScholes.Greeks memory g = BlackScholes.greeks(x.spot, x.strike, x.tau, x.vol, x.rate, x.isCall);
            gasUsed[i] = before - gasleft();
            out[i] = g;
        }
    }

    /// @notice Price and delta from the single-purpose entry points, for many inputs at once.
    /// @param inputs Pricing inputs.
    /// @return prices `BlackScholes.price` per input.
    /// @return deltas `BlackScholes.delta` per input.
    function batchPriceDelta(Input[] calldata inputs)
        external
        pure
        returns (uint256[] memory prices, int256[] memory deltas)
    {
        uint256 n = inputs.length;
        prices = new uint256[](n);
        deltas = new int256[](n);
        for (uint256 i; i < n; ++i) {
            Input calldata x = inputs[i];
            prices[i] = BlackScholes.price(x.spot, x.strike, x.tau, x.vol, x.rate, x.isCall);
            deltas[i] = BlackScholes.delta(x.spot, x.strike, x.tau, x.vol, x.rate, x.isCall);
        }
    }
}
