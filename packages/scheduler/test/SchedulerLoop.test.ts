/**
 * The scheduler loop with real parts: the SQLite ledger and queue, the runner's Supervisor and the local engine
 * running real processes (a Python sleep standing in for training, so each job takes a second or two). The
 * placements claim GPUs and spot or on-demand, as a cloud plan would, so that GPU limits, preemption and deadlines
 * are exercised end to end; the launcher is the runner's own supervisor (the SDK's launcher adds only the plan).
 */
import { Effect, Fiber, Layer, Schema } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { afterAll, describe, expect, it } from "vitest"
import {
  type JobLeased,
  type JobPolicy,
  Ledger,
  LocalRunner,
  type Placement,
  type RankedPlacement,
  type SuperviseError,
  Supervisor
} from "@frugal/runner"
import {
  JobLauncher,
  LaunchFailure,
  Leadership,
  type NewQueueJob,
  type PreparedLaunch,
  QueueSignal,
  QueueStore,
  runScheduler,
  type SchedulerPolicy,
  SchedulerSql
} from "../src/index.ts"

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true })
})

const placement = (gpus: number, purchaseOption: "spot" | "on-demand"): Placement => ({
  runner: "local",
  pool: null,
  instanceType: `test.${gpus}gpu`,
  region: "local",
  availabilityZone: null,
  purchaseOption,
  hourlyPriceUsd: purchaseOption === "spot" ? 36 : 72,
  instanceCount: 1,
  accelerator: gpus > 0 ? "T4" : null,
  acceleratorsPerInstance: gpus,
  interruptionsPerHour: 0
})

const ranked = (p: Placement, expectedHours = 0.001): RankedPlacement => ({ placement: p, baseHours: expectedHours, expectedHours, expectedCostUsd: expectedHours * p.hourlyPriceUsd })

const TestWork = Schema.fromJsonString(Schema.Struct({ seconds: Schema.Finite }))
type TestWork = typeof TestWork.Type
const decodeWork = Schema.decodeUnknownSync(TestWork)

/** A supervision's failure as the launcher reports it: another holder of the job's lease stays itself. */
const launchFailure = (jobId: string) => (error: SuperviseError): LaunchFailure | JobLeased =>
  error._tag === "JobLeased" ? error : new LaunchFailure({ jobId, detail: error.message })

/** The runner's supervisor over the local engine: a job's command sleeps `seconds` (its workload text). */
const testLauncher = (root: string): Layer.Layer<JobLauncher, never, Ledger> =>
  Layer.effect(
    JobLauncher,
    Effect.gen(function*() {
      const supervisor = yield* Effect.provide(Effect.service(Supervisor), Supervisor.layerWithRunner.pipe(Layer.provide(LocalRunner.layerWith({ graceSeconds: 2 }))))
      const launch = (jobId: string, work: TestWork) => ({
        argv: ["python3", "-c", `import time; time.sleep(${work.seconds})`] as const,
        env: {},
        workdir: root,
        checkpointDir: join(root, "jobs", jobId, "checkpoints"),
        // One process, whatever GPUs the placement claims (no torchrun for a sleep).
        processesPerNode: 1
      })
      return JobLauncher.of({
        prepare: (jobId, text) =>
          Effect.sync((): PreparedLaunch => {
            const work = decodeWork(text)
            return {
              assessment: { name: "test", placements: [], planned: true, deadlineHours: null, budgetUsd: null, quotaUse: [] },
              run: (placements, deadlineHours) => {
                const policy: JobPolicy = {
                  policy: "frugal",
                  placements,
                  deadlineHours,
                  changeoverHours: 0,
                  totalSteps: 0,
                  coolDownMinutes: 1,
                  waitHours: 0.01,
                  checkpointRegion: null,
                  checkpointGB: 0,
                  catalog: "test"
                }
                const [argv0, ...rest] = launch(jobId, work).argv
                return supervisor.run(jobId, {
                  name: "test",
                  launch: { ...launch(jobId, work), argv: [argv0, ...rest] },
                  placement: placements[0].placement,
                  retry: { maxInterruptions: 5, maxCrashes: 0 },
                  checkpointEverySeconds: null,
                  precision: null
                }, { policy, logDirectory: join(root, "logs"), leaseLabel: "frugal server" }).pipe(Effect.mapError(launchFailure(jobId)))
              }
            }
          }),
        resume: (jobId) => supervisor.resume(jobId, { logDirectory: join(root, "logs"), leaseLabel: "frugal server" }).pipe(Effect.mapError(launchFailure(jobId))),
        quotas: Effect.succeed([])
      })
    })
  )

const world = (root: string) => {
  const path = join(root, "ledger.sqlite")
  const ledger = Ledger.layerFile(path)
  const sql = SchedulerSql.sqlite(path).pipe(Layer.provide(ledger))
  return Layer.mergeAll(
    QueueStore.layer,
    QueueSignal.layerLocal,
    Leadership.sqlite({ renewMillis: 200 }),
    testLauncher(root)
  ).pipe(Layer.provideMerge(Layer.mergeAll(ledger, sql)))
}

const policy = (fields: Partial<SchedulerPolicy> = {}): SchedulerPolicy => ({
  teams: [{ name: "t", monthlyBudgetUsd: 1000, maxGpus: 2 }, { name: "u", monthlyBudgetUsd: 1000, maxGpus: 4 }],
  maxGpus: 3,
  agingPointsPerHour: 0,
  preemption: { enabled: true, minPriorityGap: 10 },
  commitments: [],
  ...fields
})

const job = (id: string, fields: Partial<NewQueueJob> & { readonly seconds: number; readonly gpus: number; readonly spot?: boolean }): NewQueueJob => {
  const p = placement(fields.gpus, fields.spot === false ? "on-demand" : "spot")
  return {
    id,
    name: "test",
    team: "t",
    priority: 0,
    deadlineHours: null,
    expectedHours: 0.001,
    expectedCostUsd: 1,
    preemptible: fields.spot !== false,
    quotaUse: [],
    placements: [ranked(p)],
    planned: true,
    workloadText: JSON.stringify({ seconds: fields.seconds }),
    ...fields
  }
}

/** Polls `check` every 100 ms until it holds (or 60 s pass). */
const until = <A>(check: Effect.Effect<A | undefined, unknown, QueueStore>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 600; i++) {
      const found = yield* Effect.orDie(check)
      if (found !== undefined) return found
      yield* Effect.sleep(100)
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

const stateOf = (id: string, state: string) =>
  Effect.map(QueueStore.use((store) => store.job(id)), (found) => (found?.state === state ? found : undefined))

const allIn = (ids: ReadonlyArray<string>, state: string) =>
  Effect.map(QueueStore.use((store) => store.jobs()), (jobs) => (ids.every((id) => jobs.find((j) => j.id === id)?.state === state) ? jobs : undefined))

const Span = Schema.Struct({
  job_id: Schema.String,
  started_ms: Schema.Number,
  ended_ms: Schema.Number,
  gpus: Schema.Number,
  purchase_option: Schema.String,
  exit_reason: Schema.String
})
type Span = typeof Span.Type

const spans = (root: string): ReadonlyArray<Span> => {
  const db = new DatabaseSync(join(root, "ledger.sqlite"), { readOnly: true })
  const rows = db.prepare(
    "SELECT job_id, started_ms, COALESCE(ended_ms, last_seen_ms) AS ended_ms, accelerators_per_instance * instance_count AS gpus, purchase_option, exit_reason FROM attempts ORDER BY started_ms"
  ).all()
  db.close()
  return Schema.decodeUnknownSync(Schema.Array(Span))(rows)
}

/** The most GPUs held at once by the attempts matching `filter`. */
const peakGpus = (all: ReadonlyArray<Span>, filter: (span: Span) => boolean): number => {
  const chosen = all.filter(filter)
  return Math.max(0, ...chosen.map((at) => chosen.filter((s) => s.started_ms <= at.started_ms && s.ended_ms > at.started_ms).reduce((sum, s) => sum + s.gpus, 0)))
}

const scenario = <A>(body: (root: string) => Effect.Effect<A, unknown, QueueStore | Ledger | QueueSignal>, schedulerPolicy: SchedulerPolicy) => {
  const root = mkdtempSync(join(tmpdir(), "frugal-loop-"))
  roots.push(root)
  return Effect.runPromise(
    Effect.scoped(Effect.gen(function*() {
      const loop = yield* Effect.forkScoped(runScheduler({ policy: schedulerPolicy, passEveryMillis: 200 }))
      const result = yield* body(root)
      yield* Fiber.interrupt(loop)
      return result
    })).pipe(Effect.provide(world(root)))
  ).then((result) => ({ result, root }))
}

describe("the scheduler loop", () => {
  it("keeps a team within its GPU limit: the third one-GPU job waits for gpus until one ends", async () => {
    const { root } = await scenario(() =>
      Effect.gen(function*() {
        const store = yield* QueueStore
        for (const id of ["g1", "g2", "g3"]) yield* store.submit(job(id, { seconds: 1.5, gpus: 1 }))
        yield* until(allIn(["g1", "g2", "g3"], "completed"), "all three to complete")
        const waits = (yield* store.decisions("g3")).filter((d) => d.decision === "wait")
        expect(waits.map((d) => d.reason)).toContain("gpus")
      }), policy())
    const all = spans(root)
    expect(all.map((s) => s.exit_reason)).toEqual(["completed", "completed", "completed"])
    expect(peakGpus(all, () => true)).toBe(2)
  }, 60_000)

  it("preempts a lower-priority spot job for urgent work, then resumes it from the queue", async () => {
    const { root } = await scenario(() =>
      Effect.gen(function*() {
        const store = yield* QueueStore
        yield* store.submit(job("low", { seconds: 5, gpus: 2 }))
        yield* until(stateOf("low", "running"), "the spot job to run")
        yield* Effect.sleep(700)
        yield* store.submit(job("urgent", { seconds: 1, gpus: 2, spot: false, priority: 20 }))
        yield* until(allIn(["low", "urgent"], "completed"), "both to complete")
        const low = yield* store.decisions("low")
        expect(low.filter((d) => d.decision !== "wait").map((d) => d.decision)).toEqual(["submitted", "admitted", "preempt", "requeued", "admitted", "completed"])
        // Back in the queue it waited for the urgent job's GPUs.
        expect(low.filter((d) => d.decision === "wait").map((d) => d.reason)).toContain("gpus")
        expect(low.find((d) => d.decision === "requeued")?.reason).toBe("priority")
        expect((yield* store.job("low"))?.preemptions).toBe(1)
      }), policy())
    const all = spans(root)
    const low = all.filter((s) => s.job_id === "low")
    const urgent = all.filter((s) => s.job_id === "urgent")
    expect(low.map((s) => s.exit_reason)).toEqual(["cancelled", "completed"])
    // The urgent job started only after the preempted one had stopped, and the team never held more than 2 GPUs.
    expect(urgent[0]?.started_ms).toBeGreaterThanOrEqual(low[0]?.ended_ms ?? Infinity)
    expect(peakGpus(all, () => true)).toBe(2)
  }, 60_000)

  it("runs a job on-demand when only on-demand still meets its deadline, and refuses one that cannot meet it", async () => {
    const { root } = await scenario(() =>
      Effect.gen(function*() {
        const store = yield* QueueStore
        const spot = ranked(placement(1, "spot"), 2)
        const onDemand = ranked(placement(1, "on-demand"), 1)
        yield* store.submit(job("tight", { seconds: 0.5, gpus: 1, deadlineHours: 1.5, placements: [spot, onDemand] }))
        yield* store.submit(job("late", { seconds: 0.5, gpus: 1, deadlineHours: 1.5, placements: [spot] }))
        const tight = yield* until(stateOf("tight", "completed"), "the tight job")
        const late = yield* until(stateOf("late", "failed"), "the late job to be refused")
        expect(late.detail).toContain("constraints.deadlineHours")
        expect((yield* store.decisions("tight")).find((d) => d.decision === "admitted")?.detail).toContain("only on-demand still meets constraints.deadlineHours")
        return tight
      }), policy())
    expect(spans(root).map((s) => [s.job_id, s.purchase_option])).toEqual([["tight", "on-demand"]])
  }, 60_000)

  it("cancels a queued job at once and stops a running one", async () => {
    const { root } = await scenario(() =>
      Effect.gen(function*() {
        const store = yield* QueueStore
        yield* store.submit(job("running", { seconds: 30, gpus: 2 }))
        yield* store.submit(job("waiting", { seconds: 1, gpus: 2 }))
        yield* until(stateOf("running", "running"), "the first job to run")
        expect((yield* store.requestCancel("waiting"))?.state).toBe("cancelled")
        expect((yield* store.requestCancel("running"))?.cancelRequested).toBe(true)
        yield* QueueSignal.use((signal) => signal.notify)
        yield* until(stateOf("running", "cancelled"), "the running job to stop")
      }), policy())
    expect(spans(root).map((s) => [s.job_id, s.exit_reason])).toEqual([["running", "cancelled"]])
  }, 60_000)

  it("resumes after a restart the jobs the previous leader left running, each completing once", async () => {
    const root = mkdtempSync(join(tmpdir(), "frugal-loop-"))
    roots.push(root)
    const layer = world(root)
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const store = yield* QueueStore
      const loop = yield* Effect.forkScoped(runScheduler({ policy: policy(), passEveryMillis: 200 }))
      yield* store.submit(job("r1", { seconds: 3, gpus: 1 }))
      yield* until(stateOf("r1", "running"), "r1 to run")
      yield* Effect.sleep(500)
      yield* Fiber.interrupt(loop)
    })).pipe(Effect.provide(layer)))
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      expect((yield* QueueStore.use((store) => store.job("r1")))?.state).toBe("running")
      const loop = yield* Effect.forkScoped(runScheduler({ policy: policy(), passEveryMillis: 200 }))
      yield* until(stateOf("r1", "completed"), "r1 to complete after the restart")
      const decisions = (yield* QueueStore.use((store) => store.decisions("r1"))).map((d) => d.decision)
      expect(decisions).toEqual(["submitted", "admitted", "resumed", "completed"])
      yield* Fiber.interrupt(loop)
    })).pipe(Effect.provide(world(root))))
    expect(spans(root).map((s) => s.exit_reason)).toEqual(["cancelled", "completed"])
  }, 60_000)

  it("waits for a job whose lease another process holds, neither failing it nor starting it beside that holder", async () => {
    let expiresAtMillis = 0
    const { root } = await scenario(() =>
      Effect.gen(function*() {
        const store = yield* QueueStore
        const ledger = yield* Ledger
        // Another replica took the job's lease (on another host, so nothing here can tell whether it is alive).
        const other = { pid: 4_000_000, host: "replica-2", pidNamespace: null, label: "frugal server" }
        const held = yield* ledger.acquireLease("h", other, { ttlMillis: 3_000 })
        expiresAtMillis = held.expiresAtMillis
        yield* store.submit(job("h", { seconds: 0.5, gpus: 1 }))
        const waiting = yield* until(
          Effect.map(store.decisions("h"), (decisions) => decisions.find((d) => d.decision === "lease-held")),
          "the scheduler to see the lease held"
        )
        expect(waiting.detail).toContain("held by pid 4000000 on replica-2 (frugal server)")
        expect((yield* store.job("h"))?.state).toBe("running")
        expect(yield* ledger.attempts("h")).toEqual([])
        yield* until(stateOf("h", "completed"), "the job to run once the lease expired")
        const decisions = (yield* store.decisions("h")).map((d) => d.decision).filter((d) => d !== "wait")
        expect(decisions).toEqual(["submitted", "admitted", "lease-held", "completed"])
      }), policy())
    const all = spans(root)
    expect(all.map((s) => s.exit_reason)).toEqual(["completed"])
    expect(all[0]?.started_ms).toBeGreaterThanOrEqual(expiresAtMillis)
  }, 60_000)
})
