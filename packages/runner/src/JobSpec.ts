/**
 * Everything a supervisor needs to (re)start a job, stored in the ledger with the job so that
 * `frugal run --resume JOB` needs only the id: the launch, the first placement and the retry budget.
 */
import { Schema } from "effect"
import { InfraProfile } from "@frugal/core"
import { LaunchSpec } from "./LaunchSpec.ts"
import { Placement } from "./Placement.ts"

export const RetryBudget = Schema.Struct({
  /** Relaunches allowed after interruptions (pre-emptions, lost nodes); they are not the job's fault. */
  maxInterruptions: Schema.Number,
  /** Relaunches allowed after crashes (non-zero exits other than 75); a crash loop must stop early. */
  maxCrashes: Schema.Number,
  /** Launches the engines could not start (capacity, quotas) before the job gives up; default 100. */
  maxProvisionFailures: Schema.optionalKey(Schema.Number)
})
export type RetryBudget = typeof RetryBudget.Type

export const DEFAULT_RETRY_BUDGET: RetryBudget = { maxInterruptions: 50, maxCrashes: 3, maxProvisionFailures: 100 }

export const JobSpec = Schema.Struct({
  /** Workload name (`[a-z0-9-]`), shown by `frugal status`. */
  name: Schema.String,
  launch: LaunchSpec,
  placement: Placement,
  retry: RetryBudget,
  /** A fixed interval instead of Young/Daly, seconds; null lets the supervisor choose. */
  checkpointEverySeconds: Schema.NullOr(Schema.Number),
  /** Model precision, to file measured throughput under (`bf16`); the trainer's own report wins. */
  precision: Schema.NullOr(Schema.String),
  /** The infrastructure profile the job was started with, so `--resume JOB` reaches the same engines. */
  infra: Schema.optionalKey(InfraProfile)
})
export type JobSpec = typeof JobSpec.Type

export const JobSpecJson = Schema.fromJsonString(JobSpec)
export const encodeJobSpec = Schema.encodeSync(JobSpecJson)
export const decodeJobSpec = Schema.decodeUnknownEffect(JobSpecJson)
