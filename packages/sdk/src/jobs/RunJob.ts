/**
 * Starting `frugal run` / `Frugal.run`: a job id already in the ledger (`resume`, or `jobId` of a job that stopped)
 * continues from the ledger alone; otherwise the workload becomes a new job, prepared (plan, placements, engines)
 * before anything runs. Also the ledger and quota layers a run needs, built from the environment read at the edge.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { InvalidInput, type NoFeasiblePlacement } from "@frugal/core"
import type { PriceCatalog, PriceCatalogError, QuotaSource } from "@frugal/pricing"
import { defaultLedgerPath, JobNotFound, Ledger, type LedgerError } from "@frugal/runner"
import type { PythonNotFound } from "@frugal/trainer"
import type { Environment } from "../Catalogs.ts"
import type { WorkloadInput } from "../WorkloadInput.ts"
import { checkJobId, type JobRequest, type PreparedJob, prepareJob } from "./Jobs.ts"

/** The job ended without completing (retry budget spent, or no placement can meet the deadline); exit code 1. */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", {
  jobId: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `job ${this.jobId} failed: ${this.detail}`
  }
}

/** The ledger at `$FRUGAL_HOME/ledger.sqlite` (else `$XDG_DATA_HOME/frugal`, else `~/.local/share/frugal`) of `env`. */
export const ledgerLayer = (env: Environment): Layer.Layer<Ledger, LedgerError> => Ledger.layerFile(defaultLedgerPath(env))

/**
 * The account's EC2 quotas, from Service Quotas: asked for only when a job may launch on EC2 (prepareJob decides),
 * and the AWS SDK is loaded only then. The same source `frugal plan --catalog aws` holds a plan to.
 */
export { lazyServiceQuotas } from "../Quotas.ts"

export interface RunRequest extends Omit<JobRequest, "workload"> {
  /** The workload (spec text or object); absent only with `resume`. */
  readonly workload?: WorkloadInput | undefined
  /**
   * Continue this job from the ledger (after a crash or Ctrl-C); attempts still running are adopted. With a
   * `workload`, the job continues only if it was made from that workload (else `WorkloadMismatch`).
   */
  readonly resume?: string | undefined
  /** When no valid checkpoint remains, start over from step 0 instead of stopping the job (`--from-scratch`). */
  readonly fromScratch?: boolean | undefined
}

/**
 * How a run starts: continuing a job the ledger has (with the workload the caller gave, which `resumeJob` checks
 * against the job's own), or a new job ready to run.
 */
export type JobStart =
  | {
    readonly _tag: "Continue"
    readonly jobId: string
    readonly workload: { readonly input: WorkloadInput; readonly source?: string | undefined } | undefined
  }
  | { readonly _tag: "New"; readonly prepared: PreparedJob }

export const startJob = Effect.fn("Jobs.start")(function*(
  request: RunRequest,
  env: Environment
): Effect.fn.Return<
  JobStart,
  InvalidInput | JobNotFound | NoFeasiblePlacement | PriceCatalogError | PythonNotFound | LedgerError,
  Ledger | PriceCatalog | QuotaSource
> {
  const ledger = yield* Ledger
  const continued = request.resume ?? request.jobId
  if (continued !== undefined) {
    const id = yield* checkJobId(request.resume === undefined ? "--job-id" : "--resume", continued)
    if ((yield* ledger.job(id)) !== undefined) {
      const workload = request.workload === undefined ? undefined : { input: request.workload, source: request.source }
      return { _tag: "Continue", jobId: id, workload }
    }
    if (request.resume !== undefined) return yield* new JobNotFound({ jobId: id })
  }
  if (request.workload === undefined) {
    return yield* new InvalidInput({ source: "workload", issues: [{ path: "workload", expected: "a workload to run, or resume: JOB" }] })
  }
  const prepared = yield* prepareJob({ ...request, workload: request.workload }, env)
  return { _tag: "New", prepared }
})
