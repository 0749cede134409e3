/**
 * `@frugal/sdk`: `Frugal.make()` for Promise users; for Effect users, the same operations as effects (`planWorkloads`,
 * `planCalibrated`, `planWorkloadsWithinQuotas`, `estimateWorkloads`, `gpuPriceList`, `simulatePolicies`, `catalogLayer`) and the packages
 * underneath as namespaces (`Core`, `Pricing`, `PlannerPackage`). Running jobs, refreshing prices, the waste report
 * and services are the entry points `@frugal/sdk/jobs`, `/prices`, `/report` and `/service`: they load SQLite, the
 * AWS SDK, ECharts and Kubernetes clients, which planning never needs (`Frugal.make()` loads them on first use).
 */
export * from "./Calibration.ts"
export * from "./Catalogs.ts"
export * from "./Estimation.ts"
export * from "./Frugal.ts"
export * from "./InfraProfileFile.ts"
export * from "./Planning.ts"
export * from "./PriceList.ts"
export * from "./Quotas.ts"
export * from "./Simulation.ts"
export * from "./WorkloadInput.ts"
export { InvalidInput, LocalFailure, NoFeasiblePlacement, PartialFailure, RemoteServiceFailure } from "@frugal/core"
export { EmbeddedCatalog, FileCatalog, PriceCatalog, PriceCatalogError } from "@frugal/pricing"
export type { FleetPlan, InfeasiblePlan, PlacementOption, Plan } from "@frugal/planner"
export * as Core from "@frugal/core"
export * as Pricing from "@frugal/pricing"
export * as PlannerPackage from "@frugal/planner"
