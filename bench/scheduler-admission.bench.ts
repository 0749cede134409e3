/**
 * One scheduling pass with 10,000 queued jobs (target ≤ 50 ms): the pure decision (each job's placements fitted
 * to commitments and its deadline, then admission in aged-priority and slack order under budgets, GPU limits and
 * quotas, with preemption), and the whole pass as the loop runs it (the queue and spend read from a SQLite ledger,
 * then the decision, with the read split into the query and the rows' decode). 5 teams, 300 running jobs; queued jobs draw GPUs from {0, 1, 2, 4, 8}, priorities from
 * {0, 5, 20}, a deadline for 30 % of them, submissions spread over the last two days. `pnpm bench scheduler-admission`.
 */
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Ledger, type Placement } from "../packages/runner/src/index.ts"
import {
  type NewQueueJob,
  planPass,
  type QueueJob,
  type QueueSnapshot,
  QueueStore,
  type SchedulerPolicy,
  SchedulerSql,
  snapshot
} from "../packages/scheduler/src/index.ts"
import { decodeQueueRows } from "../packages/scheduler/src/store/QueueRecords.ts"

const QUEUED = 10_000
const RUNNING = 300
const PASSES = 40
const HOUR = 3_600_000
const NOW = Date.UTC(2026, 2, 15)

/** A small deterministic generator (mulberry32), so every run times the same queue. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const next = random(12)
const pick = <A>(values: ReadonlyArray<A>): A => values[Math.floor(next() * values.length)] as A

const teams = ["research", "product", "vision", "speech", "infra"]
const policy: SchedulerPolicy = {
  teams: teams.map((name) => ({ name, monthlyBudgetUsd: 200_000, maxGpus: 256 })),
  maxGpus: 1024,
  agingPointsPerHour: 1,
  preemption: { enabled: true, minPriorityGap: 10 },
  commitments: [{ kind: "reserved", instanceType: "p4d.24xlarge", region: "us-east-1", count: 4, hourlyPriceUsd: 19.2 }]
}

const placement = (gpus: number, purchaseOption: "spot" | "on-demand"): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: gpus === 8 ? "p4d.24xlarge" : `g5.${gpus}xlarge`,
  region: "us-east-1",
  availabilityZone: purchaseOption === "spot" ? "use1-az4" : null,
  purchaseOption,
  hourlyPriceUsd: purchaseOption === "spot" ? 1.2 * gpus : 3 * gpus,
  instanceCount: 1,
  accelerator: gpus > 0 ? "A100-40GB" : null,
  acceleratorsPerInstance: gpus,
  interruptionsPerHour: purchaseOption === "spot" ? 0.05 : 0
})

const job = (i: number, state: "queued" | "running"): QueueJob => {
  const gpus = pick([0, 1, 1, 2, 4, 8])
  const hours = 0.5 + next() * 12
  const spot = { placement: placement(gpus, "spot"), baseHours: hours, expectedHours: hours * 1.1, expectedCostUsd: hours * 1.1 * 1.2 * gpus }
  const onDemand = { placement: placement(gpus, "on-demand"), baseHours: hours, expectedHours: hours, expectedCostUsd: hours * 3 * gpus }
  const submitted = NOW - next() * 48 * HOUR
  return {
    id: `job-${i}`,
    name: "synthetic",
    team: pick(teams),
    priority: pick([0, 0, 0, 5, 20]),
    deadlineHours: next() < 0.3 ? hours * (1.5 + next() * 40) : null,
    expectedHours: hours,
    expectedCostUsd: spot.expectedCostUsd,
    gpus,
    preemptible: true,
    quotaUse: [],
    placements: [spot, onDemand],
    planned: true,
    workloadText: "name: synthetic\n",
    state,
    reason: null,
    detail: null,
    submittedAtMillis: submitted,
    updatedAtMillis: submitted,
    admittedAtMillis: state === "running" ? NOW - next() * HOUR : null,
    endedAtMillis: null,
    cancelRequested: false,
    preemptRequested: false,
    preemptions: 0,
    costUsd: 0
  }
}

const queued = Array.from({ length: QUEUED }, (_, i) => job(i, "queued"))
const running = Array.from({ length: RUNNING }, (_, i) => job(QUEUED + i, "running"))
const view: QueueSnapshot = {
  nowMillis: NOW,
  queued,
  running,
  runningWork: running.map((r) => ({
    id: r.id,
    team: r.team,
    priority: r.priority,
    gpus: r.gpus,
    startedAtMillis: r.admittedAtMillis ?? NOW,
    preemptible: true,
    preempting: false,
    expectedCostUsd: r.expectedCostUsd,
    costUsd: r.expectedCostUsd / 2,
    quotaUse: []
  })),
  spentUsd: new Map(teams.map((team) => [team, 50_000])),
  openAttempts: new Map()
}

const stats = (millis: ReadonlyArray<number>) => {
  const sorted = [...millis].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`
}

// The pure decision.
const pure: Array<number> = []
let decided = planPass(policy, view, [])
for (let i = 0; i < PASSES; i++) {
  const started = performance.now()
  decided = planPass(policy, view, [])
  pure.push(performance.now() - started)
}
console.log(`admission decision, ${QUEUED.toLocaleString("en-US")} queued and ${RUNNING} running: ${stats(pure)}`)
console.log(`  (${decided.admit.length} admitted, ${decided.wait.length} waiting, ${decided.preempt.length} preempted, ${decided.refused.length} refused)`)

// The whole pass: the queue and this month's spend read from a SQLite ledger, then the decision.
const root = mkdtempSync(join(tmpdir(), "frugal-bench-admission-"))
const path = join(root, "ledger.sqlite")
const ledger = Ledger.layerFile(path)
const layer = QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(ledger, SchedulerSql.sqlite(path).pipe(Layer.provide(ledger)))))
const whole = await Effect.runPromise(Effect.gen(function*() {
  const store = yield* QueueStore
  const setup = performance.now()
  for (const entry of queued) {
    const fields: NewQueueJob = entry
    yield* store.submit(fields)
  }
  console.log(`  (wrote ${QUEUED.toLocaleString("en-US")} queue rows in ${((performance.now() - setup) / 1000).toFixed(1)} s)`)
  const times: Array<number> = []
  for (let i = 0; i < 10; i++) {
    const started = performance.now()
    const read = yield* snapshot()
    planPass(policy, read, [])
    times.push(performance.now() - started)
  }
  // Where the read's time goes: the rows out of SQLite (the query the queue store runs), then their Schema decode.
  const sql = yield* SchedulerSql
  const selects: Array<number> = []
  const decodes: Array<number> = []
  for (let i = 0; i < 10; i++) {
    const started = performance.now()
    const rows = yield* sql.all("SELECT * FROM queue ORDER BY submitted_ms DESC, id")
    const selected = performance.now()
    yield* decodeQueueRows(rows)
    selects.push(selected - started)
    decodes.push(performance.now() - selected)
  }
  return { times, selects, decodes }
}).pipe(Effect.provide(layer)))
console.log(`whole pass (SQLite read + decision), ${QUEUED.toLocaleString("en-US")} queued: ${stats(whole.times)}`)
console.log(`  of which the queue's rows out of SQLite: ${stats(whole.selects)}`)
console.log(`  and their Schema decode: ${stats(whole.decodes)}`)
rmSync(root, { recursive: true, force: true })
const median = [...pure].sort((a, b) => a - b)[Math.floor(pure.length / 2)] ?? Infinity
if (median > 50) {
  console.error(`admission decision median ${median.toFixed(1)} ms is over the 50 ms target`)
  process.exitCode = 1
}
