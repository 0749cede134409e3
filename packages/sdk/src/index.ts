/**
 * `@frugal/sdk`: `Frugal.make()` for Promise users; for Effect users, the same operations as
 * effects over the `PriceCatalog` service (`planWorkloads`, `estimateWorkloads`, `gpuPriceList`) and
 * the packages underneath as namespaces (`Core`, `Pricing`, `PlannerPackage`).
 */
export * from "./Estimation.ts"
export * from "./Frugal.ts"
export * from "./Planning.ts"
export * from "./PriceList.ts"
export * from "./WorkloadInput.ts"
export { InvalidInput, NoFeasiblePlacement, RemoteServiceFailure } from "@frugal/core"
export { EmbeddedCatalog, PriceCatalog, PriceCatalogError } from "@frugal/pricing"
export type { FleetPlan, InfeasiblePlan, PlacementOption, Plan } from "@frugal/planner"
export * as Core from "@frugal/core"
export * as Pricing from "@frugal/pricing"
export * as PlannerPackage from "@frugal/planner"
export * from "./InfraProfileFile.ts"
