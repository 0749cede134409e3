/**
 * `--catalog embedded|aws|PATH`: which price source a command asks.
 *
 * - `embedded` (default): the snapshot shipped in `@frugal/pricing`, no network, no account.
 * - `aws`: the live AWS APIs with a disk cache and the embedded snapshot as fallback (`@frugal/pricing/aws`).
 * - anything else is a path to a catalog file of the user's own rates (JSON or CSV, `FileCatalog`).
 *
 * Each source is loaded with a dynamic `import()` so that `frugal plan` with the embedded catalog
 * never loads the AWS SDK. To implement a source, replace its entry in `catalogLoaders`: it receives
 * the parsed choice and resolves to a `PriceCatalog` layer whose failures are the shared errors
 * (a bad file is `InvalidInput` → exit 2, AWS failing after retries is `RemoteServiceFailure` → exit 4).
 *
 * Account pricing (`pricing.yaml`: enterprise discount, private rates, spot cap) is applied here, on top of
 * whichever source was chosen, by one wrapper (`accountPricedCatalog`): from `--pricing-config FILE`, else
 * `FRUGAL_PRICING_CONFIG`, else `$XDG_CONFIG_HOME/frugal/pricing.yaml` when that file exists (one failed
 * open when it does not, so `frugal plan` stays fast without one).
 */
import * as Effect from "effect/Effect"
import * as Flag from "effect/cli/Flag"
import * as Layer from "effect/Layer"
import { InvalidInput, type RemoteServiceFailure } from "@frugal/core"
import * as Option from "effect/Option"
import { accountPricedCatalog, EmbeddedCatalog, FileCatalog, loadAccountPricing, PriceCatalog } from "@frugal/pricing"

export type CatalogChoice =
  | { readonly _tag: "embedded" }
  | { readonly _tag: "aws" }
  | { readonly _tag: "file"; readonly path: string }

export const parseCatalogChoice = (value: string): CatalogChoice =>
  value === "embedded" ? { _tag: "embedded" } : value === "aws" ? { _tag: "aws" } : { _tag: "file", path: value }

/** The layer a catalog source provides: a `PriceCatalog`, failing only with errors the CLI maps to exit codes. */
export type CatalogLayer = Layer.Layer<PriceCatalog, InvalidInput | RemoteServiceFailure>

/** One loader per kind of `--catalog` value; each module is imported only when chosen. */
export type CatalogLoaders = {
  readonly [K in CatalogChoice["_tag"]]: (choice: Extract<CatalogChoice, { readonly _tag: K }>) => Promise<CatalogLayer>
}

export const catalogLoaders: CatalogLoaders = {
  embedded: () => Promise.resolve(EmbeddedCatalog.layer),
  // Live AWS prices with the disk cache and the embedded fallback (docs/aws-catalog.md). The AWS SDK is
  // loaded only here.
  aws: async () => {
    const { AwsCatalog } = await import("@frugal/pricing/aws")
    return AwsCatalog.layer()
  },
  // A user's own rates (JSON or CSV), through the same filtering as the live catalog.
  file: (choice) => Promise.resolve(FileCatalog.layer(choice.path))
}

/**
 * The pricing config to apply: `--pricing-config` when given, else `FRUGAL_PRICING_CONFIG`; either must exist.
 * Without both, the default path is used when present.
 */
const accountPricingFor = (flagPath: string | undefined) => {
  const fromEnv = process.env["FRUGAL_PRICING_CONFIG"]
  if (flagPath !== undefined) return loadAccountPricing(flagPath, process.env, "--pricing-config")
  if (fromEnv !== undefined && fromEnv !== "") return loadAccountPricing(fromEnv, process.env, "FRUGAL_PRICING_CONFIG")
  return loadAccountPricing(undefined, process.env)
}

/** `inner` with the account's pricing on top when a pricing config applies; `inner` itself otherwise. */
export const withAccountPricingLayer = (inner: CatalogLayer, pricingConfig?: string): CatalogLayer =>
  Layer.effect(
    PriceCatalog,
    Effect.gen(function*() {
      const account = yield* accountPricingFor(pricingConfig)
      const catalog = yield* PriceCatalog
      return Option.isNone(account) ? catalog : accountPricedCatalog(catalog, account.value)
    })
  ).pipe(Layer.provide(inner))

const load = (choice: CatalogChoice): Promise<CatalogLayer> => {
  switch (choice._tag) {
    case "embedded":
      return catalogLoaders.embedded(choice)
    case "aws":
      return catalogLoaders.aws(choice)
    case "file":
      return catalogLoaders.file(choice)
  }
}

/** The `PriceCatalog` layer for a `--catalog` value, with account pricing (`--pricing-config`) on top. */
export const catalogLayer = (value: string, pricingConfig?: string): CatalogLayer =>
  withAccountPricingLayer(Layer.unwrap(Effect.promise(() => load(parseCatalogChoice(value)))), pricingConfig)

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
