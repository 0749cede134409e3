/**
 * A finished EC2 job's history written into a running server's ledger, as the scheduler and the runner write it
 * (through the queue store and the ledger, on a clock set to hours ago), since no cloud can be reached from a test:
 * a spot attempt in use1-az4 interrupted after an hour with checkpoints, no spot capacity in use1-az6, then two hours
 * on-demand in use1-az6 to completion. Also, rows whose name, team or reason hold markup, as if a writer had let
 * them through, for the dashboard's escaping to be checked in a browser.
 */
import { Ledger, type Placement } from "../../packages/runner/src/index.ts"
import { type NewQueueJob, QueueStore, SchedulerSql } from "../../packages/scheduler/src/index.ts"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"

export const HISTORY_JOB = "llama-7b-finetune-20260301-090000-a1b2"
export const XSS_NAME = `<img src=x onerror="window.__xss=1">`
export const XSS_TEAM = `<svg onload="window.__xss=2">`
export const XSS_REASON = `<script>window.__xss=3</script>`

const p4d = (zone: string, purchaseOption: "spot" | "on-demand"): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: "p4d.24xlarge",
  region: "us-east-1",
  availabilityZone: zone,
  purchaseOption,
  hourlyPriceUsd: purchaseOption === "spot" ? 12.5 : 32.77,
  instanceCount: 1,
  accelerator: "A100-40GB",
  acceleratorsPerInstance: 8,
  interruptionsPerHour: purchaseOption === "spot" ? 0.08 : 0
})

const queued = (id: string, name: string, team: string, expectedCostUsd: number, placements: NewQueueJob["placements"]): NewQueueJob => ({
  id,
  name,
  team,
  priority: 10,
  deadlineHours: 24,
  expectedHours: 3,
  expectedCostUsd,
  gpus: placements.length === 0 ? 0 : 8,
  preemptible: true,
  quotaUse: [],
  placements,
  planned: placements.length > 0,
  workloadText: `name: ${name}\n`
})

/** Writes the history into the ledger file at `path`; returns what its attempts cost. */
export const writeLedgerHistory = (path: string, team: string): Promise<number> => {
  const ledgerLayer = Ledger.layerFile(path)
  const layer = QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(ledgerLayer, SchedulerSql.sqlite(path).pipe(Layer.provide(ledgerLayer)))))
  const start = Date.now() - 5 * 3_600_000
  return Effect.runPromise(Effect.gen(function*() {
    const store = yield* QueueStore
    const ledger = yield* Ledger
    yield* TestClock.setTime(start)
    const spot = { placement: p4d("use1-az4", "spot"), baseHours: 2.6, expectedHours: 3, expectedCostUsd: 37.5 }
    const spotElsewhere = { ...spot, placement: p4d("use1-az6", "spot") }
    const onDemand = { placement: p4d("use1-az6", "on-demand"), baseHours: 2.6, expectedHours: 2.6, expectedCostUsd: 85.2 }
    yield* store.submit(queued(HISTORY_JOB, "llama-7b-finetune", team, 37.5, [spot, spotElsewhere, onDemand]))
    yield* TestClock.adjust("4 minutes")
    yield* store.admit(HISTORY_JOB, "admitted on spot, reserving $37.5000 and 8 GPUs", { expectedCostUsd: 37.5, gpus: 8 })
    yield* ledger.createJob({ id: HISTORY_JOB, name: "llama-7b-finetune", runner: "ec2", specJson: "{}" })
    let costUsd = 0
    const first = yield* ledger.startAttempt({ id: `${HISTORY_JOB}-1`, jobId: HISTORY_JOB, runner: "ec2", placement: spot.placement, checkpointEverySeconds: 900 })
    for (const step of [250, 500, 750, 1000]) {
      yield* TestClock.adjust("15 minutes")
      yield* ledger.recordEvent(first.id, { kind: "checkpoint", step, payload: { event: "checkpoint", step, bytes: 81 * 2 ** 30, blockingSeconds: 2.4 } })
    }
    costUsd += (yield* ledger.finishAttempt(first.id, { _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" })).costUsd
    yield* TestClock.adjust("2 minutes")
    const second = yield* ledger.startAttempt({ id: `${HISTORY_JOB}-2`, jobId: HISTORY_JOB, runner: "ec2", placement: spotElsewhere.placement, checkpointEverySeconds: 900 })
    costUsd += (yield* ledger.finishAttempt(second.id, { _tag: "ProvisionFailed", code: "InsufficientInstanceCapacity", detail: "no p4d.24xlarge spot capacity", scope: "pool" })).costUsd
    yield* TestClock.adjust("1 minute")
    const third = yield* ledger.startAttempt({ id: `${HISTORY_JOB}-3`, jobId: HISTORY_JOB, runner: "ec2", placement: onDemand.placement, checkpointEverySeconds: 3600 })
    yield* TestClock.adjust("2 hours")
    yield* ledger.recordEvent(third.id, { kind: "checkpoint", step: 2600, payload: { event: "checkpoint", step: 2600, bytes: 81 * 2 ** 30, blockingSeconds: 2.2 } })
    costUsd += (yield* ledger.finishAttempt(third.id, { _tag: "Completed" })).costUsd
    yield* ledger.setJobStatus(HISTORY_JOB, "completed", { finalStep: 2600, detail: "completed at step 2600" })
    yield* store.finish(HISTORY_JOB, "completed", `completed at step 2600, cost $${costUsd.toFixed(4)}`, costUsd)

    yield* store.submit(queued("markup-in-a-name", XSS_NAME, team, 1, []))
    yield* store.finish("markup-in-a-name", "failed", `refused: ${XSS_REASON}`, 0)
    yield* store.submit(queued("markup-in-a-team", "team-with-markup", XSS_TEAM, 1, []))
    yield* store.finish("markup-in-a-team", "failed", XSS_REASON, 0)
    return costUsd
  }).pipe(Effect.provide(Layer.mergeAll(layer, TestClock.layer())), Effect.scoped))
}
