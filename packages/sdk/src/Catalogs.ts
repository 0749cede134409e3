/**
 * Where prices come from, by name: `embedded` (the snapshot shipped in `@frugal/pricing`, no network, no account),
 * `aws` (the live AWS APIs with a disk cache and the embedded snapshot as fallback, `@frugal/pricing/aws`), or a
 * path to a catalog file of the user's own rates (JSON or CSV, `FileCatalog`). The CLI's `--catalog` and
 * `Frugal.make({ catalog })` take the same names.
 *
 * Each source is loaded with a dynamic `import()`, so that planning on the embedded catalog never loads the AWS SDK.
 *
 * Account pricing (`pricing.yaml`: enterprise discount, private rates, spot cap) is applied on top of whichever
 * source was chosen, by one wrapper (`accountPricedCatalog`): from `pricingConfig` (the CLI's `--pricing-config`),
 * else `FRUGAL_PRICING_CONFIG`, else `$XDG_CONFIG_HOME/frugal/pricing.yaml` when that file exists.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { InvalidInput, RemoteServiceFailure } from "@frugal/core"
import { accountPricedCatalog, EmbeddedCatalog, FileCatalog, loadAccountPricing, PriceCatalog } from "@frugal/pricing"

export type Environment = Readonly<Record<string, string | undefined>>

export type CatalogChoice =
  | { readonly _tag: "embedded" }
  | { readonly _tag: "aws" }
  | { readonly _tag: "file"; readonly path: string }

export const parseCatalogChoice = (value: string): CatalogChoice =>
  value === "embedded" ? { _tag: "embedded" } : value === "aws" ? { _tag: "aws" } : { _tag: "file", path: value }

/** The layer a catalog source provides: a `PriceCatalog`, failing only with errors that map to exit codes. */
export type CatalogLayer = Layer.Layer<PriceCatalog, InvalidInput | RemoteServiceFailure>

/** One loader per kind of catalog name; each module is imported only when chosen. */
export type CatalogLoaders = {
  readonly [K in CatalogChoice["_tag"]]: (choice: Extract<CatalogChoice, { readonly _tag: K }>) => Promise<CatalogLayer>
}

export const catalogLoaders: CatalogLoaders = {
  embedded: () => Promise.resolve(EmbeddedCatalog.layer),
  // Live AWS prices with the disk cache and the embedded fallback (docs/aws-catalog.md). The AWS SDK is loaded only here.
  aws: async () => {
    const { AwsCatalog } = await import("@frugal/pricing/aws")
    return AwsCatalog.layer()
  },
  // A user's own rates (JSON or CSV), through the same filtering as the live catalog.
  file: (choice) => Promise.resolve(FileCatalog.layer(choice.path))
}

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

/** Which pricing config applies: `pricingConfig` (it must exist), else `FRUGAL_PRICING_CONFIG` (same), else the default path if present. */
const accountPricingFor = (pricingConfig: string | undefined, env: Environment) => {
  const fromEnv = env["FRUGAL_PRICING_CONFIG"]
  if (pricingConfig !== undefined) return loadAccountPricing(pricingConfig, env, "--pricing-config")
  if (fromEnv !== undefined && fromEnv !== "") return loadAccountPricing(fromEnv, env, "FRUGAL_PRICING_CONFIG")
  return loadAccountPricing(undefined, env)
}

export interface AccountPricingOptions {
  /** A pricing config file (the CLI's `--pricing-config`); absent: `FRUGAL_PRICING_CONFIG`, else the default path. */
  readonly pricingConfig?: string | undefined
  /** The environment to read `FRUGAL_PRICING_CONFIG`, `XDG_CONFIG_HOME` and `HOME` from. */
  readonly env: Environment
}

/** `inner` with the account's pricing on top when a pricing config applies; `inner` itself otherwise. */
export const withAccountPricingLayer = <E>(
  inner: Layer.Layer<PriceCatalog, E>,
  options: AccountPricingOptions
): Layer.Layer<PriceCatalog, E | InvalidInput> =>
  Layer.effect(
    PriceCatalog,
    Effect.gen(function*() {
      const account = yield* accountPricingFor(options.pricingConfig, options.env)
      const catalog = yield* PriceCatalog
      return Option.isNone(account) ? catalog : accountPricedCatalog(catalog, account.value)
    })
  ).pipe(Layer.provide(inner))

/** The `PriceCatalog` layer for a catalog name (`embedded`, `aws` or a file path), with account pricing on top. */
export const catalogLayer = (name: string, options: AccountPricingOptions): CatalogLayer =>
  withAccountPricingLayer(Layer.unwrap(Effect.promise(() => load(parseCatalogChoice(name)))), options)
