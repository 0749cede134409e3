/**
 * `frugal server`'s API under 200 concurrent clients on loopback: the real server process (bundled CLI when current)
 * over a SQLite ledger holding 1,000 queued jobs of 5 teams; each client keeps one keep-alive connection and sends
 * requests back to back for 20 s, a mix of GET /api/v1/jobs/{id} (60 %), GET /api/v1/jobs?state=running (20 %),
 * GET /api/v1/budgets (15 %) and GET /healthz (5 %). Prints p50/p90/p99 latency per route and overall, and the
 * throughput. Timing starts 3 s after the server listens, once its first scheduling pass is done. `pnpm bench scheduler-api`.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer } from "effect"
import { Ledger, localPlacement } from "../packages/runner/src/index.ts"
import { QueueStore, SchedulerSql } from "../packages/scheduler/src/index.ts"

const CLIENTS = 200
const SECONDS = 20
const JOBS = 1_000
const teams = ["research", "product", "vision", "speech", "infra"]
const token = (team: string) => `bench-token-${team}-0123456789`

const root = mkdtempSync(join(tmpdir(), "frugal-bench-api-"))
const ledgerPath = join(root, "ledger.sqlite")
const ledger = Ledger.layerFile(ledgerPath)
const ids = await Effect.runPromise(Effect.gen(function*() {
  const store = yield* QueueStore
  const created: Array<{ readonly id: string; readonly team: string }> = []
  for (let i = 0; i < JOBS; i++) {
    const team = teams[i % teams.length] ?? "research"
    const placement = localPlacement(1)
    yield* store.submit({
      id: `bench-${i}`,
      name: "bench",
      team,
      priority: i % 7,
      deadlineHours: null,
      expectedHours: 1,
      expectedCostUsd: 1,
      gpus: 0,
      preemptible: false,
      quotaUse: [],
      placements: [{ placement, baseHours: 1, expectedHours: 1, expectedCostUsd: 1 }],
      planned: false,
      workloadText: "name: bench\n"
    })
    created.push({ id: `bench-${i}`, team })
  }
  return created
}).pipe(Effect.provide(QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(ledger, SchedulerSql.sqlite(ledgerPath).pipe(Layer.provide(ledger))))))))

// Budgets of zero keep every job queued: the server answers, the scheduler decides (each job waits for budget).
const config = join(root, "scheduler.yaml")
writeFileSync(config, `teams:\n${teams.map((team) => `  - { name: ${team}, tokenEnv: TOKEN_${team.toUpperCase()}, monthlyBudgetUsd: 0, maxGpus: 8 }`).join("\n")}\nmaxGpus: 40\n`)
const bin = fileURLToPath(new URL("../packages/cli/bin/frugal.js", import.meta.url))
const server = spawn(process.execPath, [bin, "server", "--config", config, "--ledger", ledgerPath, "--port", "0"], {
  env: { ...process.env, FRUGAL_HOME: root, ...Object.fromEntries(teams.map((team) => [`TOKEN_${team.toUpperCase()}`, token(team)])) },
  stdio: ["ignore", "ignore", "pipe"]
})
let log = ""
server.stderr.setEncoding("utf8").on("data", (chunk: string) => (log += chunk))
const port = await new Promise<number>((resolve, reject) => {
  const poll = setInterval(() => {
    const found = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log)
    if (found?.[1] !== undefined) {
      clearInterval(poll)
      resolve(Number(found[1]))
    } else if (server.exitCode !== null) {
      clearInterval(poll)
      reject(new Error(log))
    }
  }, 50)
})

// Steady state: the scheduler's first pass over the 1,000 jobs (each waits for budget) is done before timing.
await new Promise((resolve) => setTimeout(resolve, 3_000))

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
const get = (path: string, team: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const call = request({ host: "127.0.0.1", port, path, agent, headers: { authorization: `Bearer ${token(team)}` } }, (response) => {
      response.resume()
      response.on("end", () => (response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`${path}: ${response.statusCode}`))))
    })
    call.on("error", reject)
    call.end()
  })

let seed = 7
const next = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
const latencies = new Map<string, Array<number>>()
const record = (route: string, millis: number) => {
  const list = latencies.get(route) ?? []
  list.push(millis)
  latencies.set(route, list)
}
const deadline = performance.now() + SECONDS * 1000
const client = async () => {
  while (performance.now() < deadline) {
    const roll = next()
    const job = ids[Math.floor(next() * ids.length)] ?? { id: "bench-0", team: "research" }
    if (roll < 0.6) record("GET /api/v1/jobs/{id}", await get(`/api/v1/jobs/${job.id}`, job.team))
    else if (roll < 0.8) record("GET /api/v1/jobs?state=running", await get("/api/v1/jobs?state=running", job.team))
    else if (roll < 0.95) record("GET /api/v1/budgets", await get("/api/v1/budgets", job.team))
    else record("GET /healthz", await get("/healthz", job.team))
  }
}
const started = performance.now()
await Promise.all(Array.from({ length: CLIENTS }, client))
const elapsed = (performance.now() - started) / 1000
server.kill("SIGTERM")
agent.destroy()

const quantile = (values: ReadonlyArray<number>, q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}
const all = [...latencies.values()].flat()
console.log(`${CLIENTS} concurrent clients for ${SECONDS} s, ${JOBS.toLocaleString("en-US")} jobs in the ledger: ${all.length.toLocaleString("en-US")} requests, ${(all.length / elapsed).toFixed(0)} requests/s`)
for (const [route, values] of [...latencies.entries(), ["all routes", all] as const]) {
  console.log(`  ${route.padEnd(32)} n=${String(values.length).padStart(6)}  p50 ${quantile(values, 0.5).toFixed(1)} ms  p90 ${quantile(values, 0.9).toFixed(1)} ms  p99 ${quantile(values, 0.99).toFixed(1)} ms`)
}
await new Promise((resolve) => server.once("exit", resolve))
rmSync(root, { recursive: true, force: true })
