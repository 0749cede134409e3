/**
 * The scheduler's JobLauncher over `frugal run`'s own launch path (`prepareJob` → `runPrepared`, `resumeJob`): a
 * queued job is prepared exactly as `frugal run FILE` prepares one (plan over the infrastructure profile, ranked
 * placements on the engines in use, the spot policy), then run on the placements admission chose, under the queue's
 * job id. The account's EC2 quotas come from the same QuotaSource the plan is held to.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type InfraProfile, InvalidInput, type NoFeasiblePlacement, type RemoteServiceFailure } from "@frugal/core"
import { PriceCatalog, QuotaSource, quotaNeed } from "@frugal/pricing"
import { type JobLeased, Ledger, type RankedPlacement, type SuperviseError as RunError } from "@frugal/runner"
import { JobLauncher, LaunchFailure, type PreparedLaunch, type QuotaLimit, type QuotaUse } from "@frugal/scheduler"
import { loadInfraProfile } from "../InfraProfileFile.ts"
import { resumeJob, runPrepared } from "../jobs/JobRuns.ts"
import { prepareJob } from "../jobs/Jobs.ts"

export interface LauncherOptions {
  readonly env: NodeJS.ProcessEnv
  /** `--infra FILE`; absent: FRUGAL_INFRA, else the XDG default, else this machine only. */
  readonly infra?: string | undefined
  /** Where relative `run` paths of submitted workloads resolve (the server's working directory by default). */
  readonly workloadDirectory?: string | undefined
  /** What holds each job's lease while this server supervises it (default `frugal server`). */
  readonly leaseLabel?: string | undefined
}

const failure = (jobId: string) => (error: { readonly message: string }) => new LaunchFailure({ jobId, detail: error.message })

/** A run's failure as the scheduler sees it: another holder of the job's lease is told apart (it waits for it). */
const runFailure = (jobId: string) => (error: RunError | InvalidInput): LaunchFailure | JobLeased =>
  error._tag === "JobLeased" ? error : failure(jobId)(error)

/** The account's quotas that jobs count against: EC2 vCPUs per quota code in the profile's regions. */
const accountQuotas = (profile: InfraProfile) =>
  Effect.gen(function*() {
    const regions = Object.keys(profile.aws?.regions ?? {})
    if (regions.length === 0) return []
    const answer = yield* (yield* QuotaSource).ec2VcpuQuotas(regions)
    return answer.quotas.map((quota): QuotaLimit => ({ key: `${quota.region}/${quota.code}`, limit: quota.vcpus }))
  })

export const schedulerLauncher = (
  options: LauncherOptions
): Layer.Layer<JobLauncher, InvalidInput | RemoteServiceFailure, Ledger | PriceCatalog | QuotaSource> =>
  Layer.effect(
    JobLauncher,
    Effect.gen(function*() {
      const services = yield* Effect.context<Ledger | PriceCatalog | QuotaSource>()
      const profile = yield* loadInfraProfile(options.infra, options.env)
      const quotas = yield* Effect.cached(Effect.provideContext(accountQuotas(profile.profile), services))
      const source = options.workloadDirectory === undefined ? undefined : `${options.workloadDirectory}/submitted.yaml`
      const leaseLabel = options.leaseLabel ?? "frugal server"

      /** The vCPUs the first placement takes of an account quota, when it is on EC2. */
      const quotaUseOf = (first: RankedPlacement | undefined) =>
        Effect.gen(function*() {
          if (first === undefined || first.placement.runner !== "ec2") return []
          const limits = yield* quotas
          if (limits.length === 0) return []
          const answer = yield* (yield* QuotaSource).ec2VcpuQuotas([first.placement.region])
          const catalog = yield* (yield* PriceCatalog).catalog({ regions: [first.placement.region] })
          const vcpus = catalog.instanceTypes.find((type) => type.name === first.placement.instanceType)?.vcpus
          if (vcpus === undefined) return []
          const need = quotaNeed(answer.quotas, {
            instanceType: first.placement.instanceType,
            region: first.placement.region,
            market: first.placement.purchaseOption === "spot" ? "spot" : "on-demand",
            instances: first.placement.instanceCount,
            vcpusPerInstance: vcpus
          })
          return need === null ? [] : [{ key: `${first.placement.region}/${need.code}`, amount: need.neededVcpus } satisfies QuotaUse]
        }).pipe(Effect.orElseSucceed((): ReadonlyArray<QuotaUse> => []))

      return JobLauncher.of({
        prepare: (jobId, workloadText) =>
          Effect.gen(function*() {
            const prepared = yield* prepareJob({ workload: workloadText, source, jobId, infra: options.infra }, options.env).pipe(
              Effect.catchTags({
                PriceCatalogError: (error) => Effect.fail(failure(jobId)(error)),
                PythonNotFound: (error) => Effect.fail(failure(jobId)(error)),
                LedgerError: (error) => Effect.fail(failure(jobId)(error))
              })
            )
            const constraints = prepared.workload.constraints
            const quotaUse = yield* quotaUseOf(prepared.placements[0])
            const launch: PreparedLaunch = {
              assessment: {
                name: prepared.workload.name,
                placements: prepared.placements,
                planned: prepared.policy !== null,
                deadlineHours: constraints.deadlineHours ?? null,
                budgetUsd: constraints.budgetUsd ?? null,
                quotaUse
              },
              run: (placements, deadlineHours) => {
                const policy = prepared.policy === null ? null : { ...prepared.policy, placements, deadlineHours }
                const spec = policy === null ? prepared.spec : { ...prepared.spec, placement: placements[0].placement }
                return runPrepared({ ...prepared, policy, spec, placements }, options.env, {}, { leaseLabel }).pipe(
                  Effect.mapError(runFailure(jobId)),
                  Effect.provideContext(services)
                )
              }
            }
            return launch
          }).pipe(
            Effect.provideContext(services),
            Effect.catchIf(
              (error): error is Exclude<typeof error, InvalidInput | NoFeasiblePlacement | LaunchFailure> =>
                !(error instanceof InvalidInput) && error._tag !== "NoFeasiblePlacement" && error._tag !== "LaunchFailure",
              (error) => Effect.fail(failure(jobId)(error))
            )
          ),
        resume: (jobId, workloadText) =>
          resumeJob({ jobId, infra: options.infra, workload: { input: workloadText, source }, leaseLabel }, options.env).pipe(
            Effect.mapError(runFailure(jobId)),
            Effect.provideContext(services)
          ),
        quotas: Effect.orElseSucceed(quotas, () => [])
      })
    })
  )
