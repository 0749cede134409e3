/** `frugal status` behind its flags (loaded lazily: it opens the SQLite ledger). The reports are the SDK's. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { formatUsd } from "@frugal/core"
import { type AttemptStatus, jobsStatusReport, jobStatusReport, ledgerLayer } from "@frugal/sdk/jobs"
import { environment } from "../../Environment.ts"
import { renderTable } from "../../Table.ts"
import { duration } from "./Format.ts"

export interface StatusInput {
  readonly job: Option.Option<string>
  readonly json: boolean
}

const placementLabel = (attempt: AttemptStatus): string => {
  const p = attempt.placement
  return p.purchaseOption === "local"
    ? "local"
    : `${p.instanceType}${p.instanceCount > 1 ? ` ×${p.instanceCount}` : ""} ${p.availabilityZone ?? p.region} ${p.purchaseOption}`
}

/** `2026-11-23T07:00:00Z`: the ISO time without milliseconds. */
const seconds = (iso: string): string => iso.replace(/\.\d{3}Z$/, "Z")

const allJobs = Effect.gen(function*() {
  const report = yield* jobsStatusReport
  if (report.jobs.length === 0) return `No jobs in the ledger ${report.ledger}. Start one with frugal run FILE.`
  return [
    `Jobs in ${report.ledger}:`,
    "",
    ...renderTable(
      [
        { header: "JOB" },
        { header: "STATUS" },
        { header: "ATTEMPTS", align: "right" },
        { header: "STEP", align: "right" },
        { header: "COST", align: "right" },
        { header: "UPDATED" }
      ],
      report.jobs.map((job) => [job.id, job.status, String(job.attempts), job.finalStep === null ? "—" : String(job.finalStep), formatUsd(job.costUsd, "glance"), job.updatedAt])
    )
  ].join("\n")
})

const oneJob = (id: string, json: boolean) =>
  Effect.map(jobStatusReport(id), (report) => {
    const { job, supervisor, attempts } = report
    return json
      ? JSON.stringify(report, null, 2)
      : [
        `job ${job.id} (${job.name}): ${job.status}${job.detail === null ? "" : ` — ${job.detail}`}`,
        ...(supervisor === null
          ? job.status === "running" ? ["  supervised by nobody now: continue it with frugal run --resume " + job.id] : []
          : [`  supervised by pid ${supervisor.pid} on ${supervisor.host} (${supervisor.label}), last heartbeat ${supervisor.heartbeatAt}`]),
        `  final step ${job.finalStep ?? "—"}${job.weightsSha256 === null ? "" : `, weights sha256 ${job.weightsSha256}`}`,
        `  cost ${formatUsd(job.costUsd, "glance")} over ${attempts.length} attempt(s)`,
        "",
        ...renderTable(
          [
            { header: "#", align: "right" },
            { header: "PLACEMENT" },
            { header: "$/HOUR", align: "right" },
            { header: "STARTED" },
            { header: "DURATION", align: "right" },
            { header: "EXIT" },
            { header: "RESUMED", align: "right" },
            { header: "LAST STEP", align: "right" },
            { header: "COST", align: "right" }
          ],
          attempts.map((a) => [
            String(a.sequence),
            placementLabel(a),
            a.placement.hourlyPriceUsd.toFixed(2),
            seconds(a.startedAt),
            duration(a.durationSeconds * 1000),
            a.exitDetail ?? "running",
            a.resumedFromStep === null ? "—" : String(a.resumedFromStep),
            a.lastStep === null ? "—" : String(a.lastStep),
            formatUsd(a.costUsd, "glance")
          ])
        )
      ].join("\n")
  })

export const run = (input: StatusInput) =>
  Effect.gen(function*() {
    if (Option.isNone(input.job)) {
      if (input.json) return yield* Console.log(JSON.stringify(yield* jobsStatusReport, null, 2))
      return yield* Console.log(yield* allJobs)
    }
    return yield* Console.log(yield* oneJob(input.job.value, input.json))
  }).pipe(Effect.provide(ledgerLayer(environment)))
