/**
 * The Promise facade for users who do not use Effect:
 *
 * ```ts
 * import { Frugal } from "@frugal/sdk"
 * const frugal = Frugal.make()                    // embedded price snapshot, no AWS account needed
 * const plan = await frugal.plan(readFileSync("job.yaml", "utf8"))
 * console.log(plan.options[0])
 * await frugal.dispose()
 * ```
 *
 * Each method runs the same Effect program the CLI runs, on one `ManagedRuntime` built from the
 * price catalog layer, and rejects with the same tagged errors (`InvalidInput`, `NoFeasiblePlacement`,
 * `RemoteServiceFailure`, `PriceCatalogError`), so `error._tag` tells them apart.
 */
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import type { RemoteServiceFailure } from "@frugal/core"
import { EmbeddedCatalog, type PriceCatalog } from "@frugal/pricing"
import { type EstimateResult, estimateWorkloads } from "./Estimation.ts"
import { type PlanOptions, type PlanResult, planWorkloads } from "./Planning.ts"
import { gpuPriceList, type PriceListQuery, type PriceListReport } from "./PriceList.ts"
import type { WorkloadInput } from "./WorkloadInput.ts"

export interface FrugalOptions {
  /**
   * Where prices come from. Default: the embedded snapshot (offline). Any `PriceCatalog` layer
   * works: the live AWS catalog, a file catalog, or a test double.
   */
  readonly catalog?: Layer.Layer<PriceCatalog, RemoteServiceFailure> | undefined
}

export interface Frugal {
  /** Ranked placements for a workload (or a fleet: one plan per workload, with its status). */
  readonly plan: (workload: WorkloadInput, options?: PlanOptions) => Promise<PlanResult>
  /** Memory and compute estimates per accelerator, without prices. */
  readonly estimate: (workload: WorkloadInput) => Promise<EstimateResult>
  /** The GPU price list for a region (default us-east-1, or `all`) and optionally one GPU family. */
  readonly gpus: (query?: PriceListQuery) => Promise<PriceListReport>
  /** Releases the runtime (and any clients the catalog layer holds). */
  readonly dispose: () => Promise<void>
  readonly [Symbol.asyncDispose]: () => Promise<void>
}

const make = (options: FrugalOptions = {}): Frugal => {
  const runtime = ManagedRuntime.make(options.catalog ?? EmbeddedCatalog.layer)
  return {
    plan: (workload, planOptions = {}) => runtime.runPromise(planWorkloads(workload, planOptions)),
    estimate: (workload) => runtime.runPromise(estimateWorkloads(workload)),
    gpus: (query = {}) => runtime.runPromise(gpuPriceList(query)),
    dispose: () => runtime.dispose(),
    [Symbol.asyncDispose]: () => runtime.dispose()
  }
}

export const Frugal = { make } as const
