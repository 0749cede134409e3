/**
 * The ledger benchmark behind `bench/ledger.bench.ts` (here, where `effect` resolves): what the integrity check on
 * open and a job lease cost, on ledgers of 10,000 and 500,000 events.
 */
import { Effect, Layer } from "effect"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { Ledger, localPlacement } from "../../src/index.ts"

const median = async (run: () => Promise<void> | void, times = 5): Promise<number> => {
  await run()
  const samples: Array<number> = []
  for (let i = 0; i < times; i++) {
    const start = performance.now()
    await run()
    samples.push(performance.now() - start)
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)] ?? Number.NaN
}

export const runLedgerBench = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), "frugal-ledger-bench-"))
  const open = (path: string) => Effect.runPromise(Effect.scoped(Effect.asVoid(Layer.build(Ledger.layerFile(path)))))

  /** A ledger of `jobs` jobs with 4 attempts each and `events / (jobs × 4)` step events per attempt. */
  const build = async (name: string, jobs: number, events: number): Promise<string> => {
    const path = join(dir, `${name}.sqlite`)
    await open(path) // creates the file with the runner's tables
    const db = new DatabaseSync(path)
    const placement = localPlacement(1)
    const perAttempt = Math.max(1, Math.round(events / (jobs * 4)))
    db.exec("BEGIN")
    const job = db.prepare("INSERT INTO jobs (id, name, status, runner, spec_json, created_ms, updated_ms) VALUES (?, 'bench', 'completed', 'local', '{}', 0, 0)")
    const attempt = db.prepare(
      `INSERT INTO attempts (id, job_id, sequence, runner, instance_type, region, purchase_option, hourly_price_usd, instance_count,
         accelerators_per_instance, interruptions_per_hour, started_ms, last_seen_ms, ended_ms, exit_reason)
       VALUES (?, ?, ?, 'local', ?, ?, 'local', ?, 1, 0, 0, 0, 1000, 1000, 'completed')`
    )
    const event = db.prepare("INSERT INTO events (job_id, attempt_id, time_ms, kind, step, payload_json) VALUES (?, ?, ?, 'step', ?, ?)")
    const payload = JSON.stringify({ event: "step", loss: 2.5, tokensPerSecond: 123456.7, tokensSeen: 1_000_000, gpuUtilization: 97, gpuMemoryGiB: 61.2 })
    for (let j = 0; j < jobs; j++) {
      job.run(`job-${j}`)
      for (let a = 1; a <= 4; a++) {
        attempt.run(`job-${j}-${a}`, `job-${j}`, a, placement.instanceType, placement.region, placement.hourlyPriceUsd)
        for (let e = 0; e < perAttempt; e++) event.run(`job-${j}`, `job-${j}-${a}`, e, e, payload)
      }
    }
    db.exec("COMMIT")
    db.close()
    return path
  }

  for (const [name, jobs, events] of [["small", 100, 10_000], ["large", 1_000, 500_000]] as const) {
    const path = await build(name, jobs, events)
    const mb = statSync(path).size / 1e6
    const openMs = await median(() => open(path))
    const checkMs = await median(() => {
      const db = new DatabaseSync(path, { readOnly: true })
      db.prepare("PRAGMA quick_check").all()
      db.close()
    })
    console.log(
      `${events.toLocaleString("en-US")} events, ${jobs} jobs, ${mb.toFixed(1)} MB: open ${openMs.toFixed(1)} ms, of which quick_check ${checkMs.toFixed(1)} ms`
    )
  }

  const leasePath = join(dir, "small.sqlite")
  const leaseMs = await median(() =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const ledger = yield* Ledger
      for (let i = 0; i < 100; i++) {
        const lease = yield* ledger.acquireLease(`bench-${i}`, { pid: 1, host: "bench", pidNamespace: null, label: "bench" }, { ttlMillis: 45_000 })
        yield* ledger.renewLease(lease, 45_000)
        yield* ledger.releaseLease(lease)
      }
    }).pipe(Effect.provide(Ledger.layerFile(leasePath)))))
  )
  console.log(`lease acquire + renew + release: ${(leaseMs / 100).toFixed(2)} ms per job (100 jobs, including one open)`)
  rmSync(dir, { recursive: true, force: true })
}
