/**
 * Keeper `price` stage: Black-Scholes price and greeks, implied volatility to machine precision
 * ("Let's Be Rational"), raw-SVI smile fits per expiry and smile-adjusted delta.
 */
export { erf, erfc, erfcx, normCdf, normPdf, inverseNormCdf } from "./normal.ts";
export {
  bsPrice,
  bsGreeks,
  bsGreeksBatch,
  allocBsBatchOutput,
  normalisedBlack,
  normalisedVega,
  complementaryNormalisedBlack,
  logMoneyness,
  bsInputSchema,
  type BsGreeks,
  type BsInput,
  type BsBatchInput,
  type BsBatchOutput,
} from "./blackScholes.ts";
export {
  impliedVol,
  impliedVolRaw,
  normalisedImpliedVol,
  normalisedImpliedVolRaw,
  impliedVolAttainableAccuracy,
  newtonImpliedVol,
  impliedVolInputSchema,
  IV_BELOW_INTRINSIC,
  IV_ABOVE_MAXIMUM,
  IV_INVALID_INPUT,
  type ImpliedVolResult,
  type ImpliedVolError,
  type ImpliedVolInput,
  type NewtonResult,
} from "./impliedVol.ts";
export {
  fitSvi,
  sviTotalVariance,
  sviTotalVarianceSlope,
  sviImpliedVol,
  sviSatisfiesConstraints,
  sviPointsFromVols,
  smileAdjustedDelta,
  sviPointSchema,
  sviParamsSchema,
  sviSliceSchema,
  type SviParams,
  type SviSlice,
  type SviPoint,
  type SviFit,
  type SviFitOptions,
  type SmileDelta,
} from "./svi.ts";
