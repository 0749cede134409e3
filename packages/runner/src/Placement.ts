/**
 * Where an attempt runs and what it costs there: the part of a plan option the runner needs.
 * A local run is a placement too (`local`, price 0 unless the user says what the machine costs),
 * so the ledger and the supervisor treat every engine the same way.
 */
import { Schema } from "effect"

/** The engines a placement can name. */
export const ENGINE_NAMES = ["local", "slurm", "kubernetes", "ec2"] as const
export const EngineName = Schema.Literals(ENGINE_NAMES)
export type EngineName = typeof EngineName.Type

export const Placement = Schema.Struct({
  /** The engine that launches it; absent in placements recorded before engines were named (the job's runner). */
  runner: Schema.optionalKey(EngineName),
  /** Slurm `cluster/partition` or Kubernetes `cluster/pool` of the infrastructure profile; null for EC2 and local. */
  pool: Schema.optionalKey(Schema.NullOr(Schema.String)),
  /** EC2 instance type (`p5.48xlarge`), a Slurm partition, a Kubernetes node class, or `local`. */
  instanceType: Schema.String,
  region: Schema.String,
  /** AZ ID (`use1-az4`); null where the engine does not pin a zone. */
  availabilityZone: Schema.NullOr(Schema.String),
  purchaseOption: Schema.Literals(["spot", "on-demand", "reserved", "savings-plan", "local"]),
  /** USD per instance-hour at this placement; cost accrued = hours × price × instances. */
  hourlyPriceUsd: Schema.Number,
  instanceCount: Schema.Number,
  /** Canonical accelerator name (`H100`), or null for CPU; used to file measured throughput. */
  accelerator: Schema.NullOr(Schema.String),
  /** Accelerators per instance (0 for CPU). */
  acceleratorsPerInstance: Schema.Number,
  /** Expected interruptions per hour here (spot risk bucket); 0 for on-demand and local. */
  interruptionsPerHour: Schema.Number
})
export type Placement = typeof Placement.Type

/** The placement of a run on this machine. */
export const localPlacement = (hourlyPriceUsd = 0): Placement => ({
  runner: "local",
  instanceType: "local",
  region: "local",
  availabilityZone: null,
  purchaseOption: "local",
  hourlyPriceUsd,
  instanceCount: 1,
  accelerator: null,
  acceleratorsPerInstance: 0,
  interruptionsPerHour: 0
})

/** Cost of holding a placement for a span of wall-clock time. */
export const costUsd = (placement: Placement, startedAtMillis: number, endedAtMillis: number): number =>
  (Math.max(0, endedAtMillis - startedAtMillis) / 3_600_000) * placement.hourlyPriceUsd * placement.instanceCount

/**
 * A capacity pool: what a provisioning failure or a reclaim sets aside for a cool-down. Two placements in the same
 * pool are the same place to ask for capacity: engine, cluster pool, instance type, region, zone and market.
 */
export const poolKey = (placement: Placement): string =>
  [placement.runner ?? "", placement.pool ?? "", placement.instanceType, placement.region, placement.availabilityZone ?? "", placement.purchaseOption]
    .join("|")

/** The human name of a placement: `2 × p5.48xlarge spot in use1-az4 (us-east-1)`, `slurm lab/gpu on-demand`. */
export const describePlacement = (placement: Placement): string => {
  if (placement.purchaseOption === "local") return "this machine"
  const count = placement.instanceCount > 1 ? `${placement.instanceCount} × ` : ""
  if (placement.pool !== undefined && placement.pool !== null) {
    // A cluster's partition or pool: its name says where; the count is of nodes.
    const nodes = placement.instanceCount > 1 ? ` × ${placement.instanceCount} nodes` : ""
    return `${placement.runner ?? "cluster"} ${placement.pool}${nodes} ${placement.purchaseOption}`
  }
  const where = placement.availabilityZone === null ? placement.region : `${placement.availabilityZone} (${placement.region})`
  return `${count}${placement.instanceType} ${placement.purchaseOption} in ${where}`
}
