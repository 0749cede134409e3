/** `frugal status` behind its flags (loaded lazily: it opens the SQLite ledger). */
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { InvalidInput } from "@frugal/core"
import { type AttemptRecord, Ledger } from "@frugal/runner"
import { attemptStatus, jobStatus as jobJson, supervisorStatus } from "@frugal/sdk/jobs"
import { renderTable } from "../../Table.ts"
import { duration, isoTime, usd } from "./Format.ts"

export interface StatusInput {
  readonly job: Option.Option<string>
  readonly json: boolean
}

const placementLabel = (attempt: AttemptRecord): string => {
  const p = attempt.placement
  return p.purchaseOption === "local"
    ? "local"
    : `${p.instanceType}${p.instanceCount > 1 ? ` ×${p.instanceCount}` : ""} ${p.availabilityZone ?? p.region} ${p.purchaseOption}`
}

export const run = (input: StatusInput) =>
  Effect.gen(function*() {
    const ledger = yield* Ledger
    if (Option.isNone(input.job)) {
      const jobs = yield* ledger.jobs
      const rows = yield* Effect.forEach(jobs, (job) => Effect.map(ledger.attempts(job.id), (attempts) => jobJson(job, attempts)))
      if (input.json) return yield* Console.log(JSON.stringify({ ledger: ledger.path, jobs: rows }, null, 2))
      if (rows.length === 0) return yield* Console.log(`No jobs in the ledger ${ledger.path}. Start one with frugal run FILE.`)
      return yield* Console.log([
        `Jobs in ${ledger.path}:`,
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
          rows.map((job) => [job.id, job.status, String(job.attempts), job.finalStep === null ? "—" : String(job.finalStep), usd(job.costUsd), job.updatedAt])
        )
      ].join("\n"))
    }
    const id = input.job.value
    const job = yield* ledger.job(id)
    if (job === undefined) {
      return yield* new InvalidInput({
        source: "JOB",
        issues: [{ path: "JOB", expected: `a job in the ledger ${ledger.path} (frugal status lists them)`, actual: id }]
      })
    }
    const attempts = yield* ledger.attempts(id)
    const now = yield* Clock.currentTimeMillis
    const supervisor = supervisorStatus(yield* ledger.lease(id), now)
    if (input.json) {
      return yield* Console.log(JSON.stringify({ job: jobJson(job, attempts), supervisor, attempts: attempts.map(attemptStatus) }, null, 2))
    }
    const summary = jobJson(job, attempts)
    return yield* Console.log([
      `job ${job.id} (${job.name}): ${job.status}${job.detail === null ? "" : ` — ${job.detail}`}`,
      ...(supervisor === null
        ? job.status === "running" ? ["  supervised by nobody now: continue it with frugal run --resume " + job.id] : []
        : [`  supervised by pid ${supervisor.pid} on ${supervisor.host} (${supervisor.label}), last heartbeat ${supervisor.heartbeatAt}`]),
      `  final step ${job.finalStep ?? "—"}${job.weightsSha256 === null ? "" : `, weights sha256 ${job.weightsSha256}`}`,
      `  cost ${usd(summary.costUsd)} over ${attempts.length} attempt(s)`,
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
          isoTime(a.startedAtMillis),
          duration((a.endedAtMillis ?? a.lastSeenAtMillis) - a.startedAtMillis),
          a.exitDetail ?? "running",
          a.resumedFromStep === null ? "—" : String(a.resumedFromStep),
          a.lastStep === null ? "—" : String(a.lastStep),
          usd(a.costUsd)
        ])
      )
    ].join("\n"))
  }).pipe(Effect.provide(Ledger.layer))
