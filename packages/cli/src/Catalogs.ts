/**
 * `--catalog embedded|aws|PATH` and `--pricing-config FILE`: which price source a command asks, and the account
 * pricing on top. The sources and the account-pricing rule are the SDK's (`catalogLayer` of `@frugal/sdk`); this
 * module declares the flags and hands the SDK the environment read at the edge.
 */
import * as Flag from "effect/cli/Flag"
import { type CatalogLayer, catalogLayer as sdkCatalogLayer } from "@frugal/sdk"
import { environment } from "./Environment.ts"

/** The `PriceCatalog` layer for a `--catalog` value, with account pricing (`--pricing-config`) on top. */
export const catalogLayer = (value: string, pricingConfig?: string): CatalogLayer =>
  sdkCatalogLayer(value, { pricingConfig, env: environment })

/** The `--catalog` flag every pricing command shares. */
export const catalogFlag = Flag.String("catalog").pipe(
  Flag.withDescription("Price source: embedded (offline snapshot, default), aws (live AWS prices), or a catalog file path"),
  Flag.withMetavar("embedded|aws|PATH"),
  Flag.withDefault("embedded")
)

/** The `--pricing-config` flag of the pricing commands (`plan`, `gpus`). */
export const pricingConfigFlag = Flag.String("pricing-config").pipe(
  Flag.withDescription(
    "Account pricing (enterprise discount, private rates, spot cap; docs/aws-catalog.md) applied to every catalog; " +
      "default FRUGAL_PRICING_CONFIG, else $XDG_CONFIG_HOME/frugal/pricing.yaml when it exists"
  ),
  Flag.withMetavar("FILE"),
  Flag.optional
)
