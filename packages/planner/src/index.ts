/**
 * The public API of `@frugal/planner`: planning (one workload, a fleet, the Effect wrapper), the plan's output
 * types, the cost arithmetic of one placement, the spot policies and the trace simulator. The enumeration's
 * internals (candidates, work items, pricers, the top list) are not exported.
 */
export { catalogInfo, DEFAULT_TOP, type Evaluation, evaluate, evaluatePlan, plan, type PlanOptions, planSettings } from "./Plan.ts"
export {
  DEFAULT_FLEET_TOP,
  type FleetOptions,
  type FleetPlan,
  type FleetSummary,
  type OwnedCommitment,
  type OwnedReservation,
  type OwnedSavingsPlan,
  type OwnedUse,
  planFleet
} from "./PlanFleet.ts"
export {
  type AcceleratorRequirement,
  type CapacityRisk,
  fraction,
  gib,
  hourly,
  hoursOf,
  type InfeasiblePlan,
  type InterruptionRisk,
  type OptionTerm,
  type PlacementOption,
  type Plan,
  type PlanCatalog,
  type PlanConstraints,
  type Requirements,
  roundTo,
  significant,
  usd
} from "./PlanResult.ts"
export {
  billedHours,
  checkpointHours,
  type CommitmentCharge,
  commitmentCharge,
  type CostAssumptions,
  DEFAULT_COST_ASSUMPTIONS,
  downloadGBps,
  interRegionTransferUsdPerGB,
  type LaunchTime,
  launchTime,
  MINIMUM_BILLED_HOURS,
  type SpotProgress,
  spotProgress,
  type SpotRun,
  spotRun,
  spotRunIn,
  spotServing,
  transferCostUsd
} from "./PlacementCost.ts"
export { expectedShortfall, leavingOnDemandPays, spotJob, type SpotJobInputs, type SpotJobOutcome } from "./SpotJob.ts"
export {
  atPriceFloor,
  type CapacityBasis,
  gangProbability,
  onDemandPool,
  type PoolCapacity,
  poolLimit,
  type PoolUsage,
  spotPool
} from "./Capacity.ts"
export {
  type CatalogIndex,
  type CommitmentOffer,
  type CommitmentVariant,
  type IndexedType,
  indexCatalog,
  mergeBounds,
  type PriceBounds,
  type RegionOffers,
  type ZoneOffer
} from "./CatalogIndex.ts"
export { type AcceleratorNeed, coreEstimator, type Estimator, type Needs, workloadNeeds } from "./Requirements.ts"
export * as Planner from "./Planner.ts"

export {
  type Holding,
  type JobState,
  NONE,
  ON_DEMAND,
  type Policy,
  RECENT_SPOT_PERIODS,
  sameHolding,
  type SpotHistory,
  spotIn
} from "./policies/Policy.ts"
export { guaranteedProgressHours, isSafe, slackAfterStepHours, slackHours, withSafetyNet } from "./policies/SafetyNet.ts"
export { onDemandPolicy } from "./policies/OnDemand.ts"
export { greedyPolicy } from "./policies/Greedy.ts"
export { uniformProgressPolicy } from "./policies/UniformProgress.ts"
export {
  defaultFrugalParameters,
  expectedSpotLifetimeHours,
  type FrugalParameters,
  frugalPolicy,
  makeFrugalPolicy
} from "./policies/Frugal.ts"
export { ONLINE_POLICY_NAMES, onlinePolicies, onlinePolicyByName, type OnlinePolicyName } from "./policies/Policies.ts"
export { EventSpotHistory } from "./policies/EventSpotHistory.ts"

export {
  indexTrace,
  instanceOfTrace,
  type SpotTrace,
  type TraceIndex,
  type ZoneSet,
  zoneSet,
  zoneSetsOf
} from "./simulate/SpotTrace.ts"
export {
  decodePriceMap,
  decodeTraceCsv,
  decodeTraceFile,
  decodeTraceFiles,
  decodeTraceJson,
  isPriceMapPath,
  traceNameOf,
  type TraceText,
  withPrices
} from "./simulate/TraceFile.ts"
export { deadlineTicks, type JobSpec, onDemandOnlyCostUsd, type RunOutcome, Simulator, spotPriceAt } from "./simulate/Simulator.ts"
export { type OptimalOptions, OptimalSolver, progressUnitsPerTick } from "./simulate/Optimal.ts"
export {
  EXACT_WORK_LIMIT,
  type ExperimentOptions,
  type OptimalMethod,
  type PolicyOrOptimal,
  policyName,
  type PolicySummary,
  resolveOptimalMethod,
  runExperiment,
  seededRandom,
  startTicks,
  SummaryBuilder
} from "./simulate/Experiment.ts"
export { OptimalBoundSolver } from "./simulate/OptimalBound.ts"
export * from "./QuotaFit.ts"
export { catalogQueryFor } from "./WorkloadCatalogQuery.ts"
export * from "./ServicePlacementRule.ts"
