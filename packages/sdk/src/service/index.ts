/**
 * `@frugal/sdk/service`: inference services that scale themselves (plan, simulate, apply, status). A separate entry
 * point because it loads `@frugal/serving` (and, for an Auto Scaling group, the AWS SDK), which planning never needs.
 */
export * from "./ServiceInputs.ts"
export * from "./Services.ts"
export type { ServicePlan, ServiceSimulationReport } from "@frugal/serving"
export type { ServiceStatus } from "@frugal/serving/aws"
