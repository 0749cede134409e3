/**
 * Where an attempt runs and what it costs there: the part of a plan option the runner needs.
 * A local run is a placement too (`local`, price 0 unless the user says what the machine costs),
 * so the ledger and the supervisor treat every engine the same way.
 */
import { Schema } from "effect"

export const Placement = Schema.Struct({
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
