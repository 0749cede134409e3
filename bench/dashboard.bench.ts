/**
 * The dashboard and `/metrics` with 10,000 jobs in a SQLite ledger, served on loopback by the server's own router:
 * - the first page load (target: under 500 ms to first render): the HTML of `/` the first time after a start, drawn
 *   afresh (the ledger changed since the last render), and unchanged; where Chromium is installed, the first
 *   contentful paint a browser measures;
 * - one `/metrics` scrape (target: under 100 ms): the first after a start (it reads every admission), one after a
 *   running job's cost accrued, one after an attempt ended (the closed attempts' sums are read again);
 * - live updates: the bytes an open page moves per minute (request and response, counted on the socket) polling every
 *   2 s, while nothing changes and while a job runs (its cost accrues at every heartbeat) and another is submitted
 *   every 10 s; and the server time of a poll that finds nothing changed (204) and one that renders the changes.
 *
 * The ledger: 10,000 jobs of 5 teams submitted over the last 21 days, 300 waiting and 100 running; the others ended
 * (completed, failed or cancelled) after 1 to 3 attempts on EC2 spot or on-demand in 8 zones, some interrupted or
 * refused capacity, with checkpoints. Written through the queue store and the ledger, as the scheduler writes them.
 * `pnpm bench dashboard`.
 */
import { Effect, Exit, Layer, ManagedRuntime, Redacted, Scope } from "effect"
import { TestClock } from "effect/testing"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { gunzipSync } from "node:zlib"
import { join } from "node:path"
import { type AttemptExit, Ledger, type Placement } from "../packages/runner/src/index.ts"
import { type NewQueueJob, prepareReadModel, QueueSignal, QueueStore, SchedulerSql } from "../packages/scheduler/src/index.ts"
import {
  dashboardRoutes,
  makeAuthenticator,
  makeServerMetrics,
  metricsRoute,
  preloadDashboard,
  serveHttp,
  type ServerConfig
} from "../packages/server/src/index.ts"

const JOBS = 10_000
const WAITING = 300
const RUNNING = 100
const TEAMS = ["research", "product", "vision", "speech", "infra"]
const ZONES = ["use1-az1", "use1-az2", "use1-az4", "use1-az6", "usw2-az1", "usw2-az2", "usw2-az3", "euw1-az1"]
const ADMIN = "bench-admins-token-0123456789"
const SCRAPE = "bench-scrape-token-0123456789"
const MINUTE = 60_000

/** A small deterministic generator (mulberry32), so every run times the same ledger. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const next = random(13)
const pick = <A>(values: ReadonlyArray<A>): A => values[Math.floor(next() * values.length)] ?? values[0] as A

const placement = (spot: boolean): Placement => ({
  runner: "ec2",
  pool: null,
  instanceType: "p4d.24xlarge",
  region: "us-east-1",
  availabilityZone: pick(ZONES),
  purchaseOption: spot ? "spot" : "on-demand",
  hourlyPriceUsd: spot ? 9.8 : 32.8,
  instanceCount: 1,
  accelerator: "A100-40GB",
  acceleratorsPerInstance: 8,
  interruptionsPerHour: spot ? 0.05 : 0
})

const newJob = (id: string): NewQueueJob => {
  const spot = placement(true)
  return {
    id,
    name: "synthetic",
    team: pick(TEAMS),
    priority: pick([0, 0, 5, 20]),
    deadlineHours: null,
    expectedHours: 2,
    expectedCostUsd: 25,
    gpus: 8,
    preemptible: true,
    quotaUse: [],
    placements: [{ placement: spot, baseHours: 2, expectedHours: 2.2, expectedCostUsd: 25 }],
    planned: true,
    workloadText: "name: synthetic\n"
  }
}

const config: ServerConfig = {
  policy: {
    teams: TEAMS.map((name) => ({ name, monthlyBudgetUsd: 500_000, maxGpus: 512 })),
    maxGpus: 2048,
    agingPointsPerHour: 1,
    preemption: { enabled: false, minPriorityGap: 10 },
    commitments: []
  },
  passEveryMillis: 30_000,
  maxBodyBytes: 1 << 20,
  tokens: [{ token: Redacted.make(ADMIN), principal: { kind: "admin" } }],
  metricsToken: Redacted.make(SCRAPE)
}

const root = mkdtempSync(join(tmpdir(), "frugal-bench-dashboard-"))
const path = join(root, "ledger.sqlite")
const ledgerLayer = Ledger.layerFile(path)
const services = QueueStore.layer.pipe(Layer.provideMerge(Layer.mergeAll(ledgerLayer, QueueSignal.layerLocal, SchedulerSql.sqlite(path).pipe(Layer.provide(ledgerLayer)))))
const runtime = ManagedRuntime.make(services)

// Seeding, on a test clock set to each event's time.
const seedStarted = performance.now()
const startMillis = Date.now() - 21 * 24 * 60 * MINUTE
const runningIds: Array<string> = []
await runtime.runPromise(Effect.gen(function*() {
  const store = yield* QueueStore
  const ledger = yield* Ledger
  for (let i = 0; i < JOBS; i++) {
    const id = `job-${i}`
    const submitted = startMillis + (i / JOBS) * 21 * 24 * 60 * MINUTE
    yield* TestClock.setTime(submitted)
    yield* store.submit(newJob(id))
    const fate = i >= JOBS - WAITING ? "waiting" : i >= JOBS - WAITING - RUNNING ? "running" : "ended"
    if (fate === "waiting") {
      yield* store.waiting(id, "gpus", "8 GPUs wanted, none free")
      continue
    }
    yield* TestClock.adjust(`${Math.round(next() * 30)} minutes`)
    yield* store.admit(id, "admitted on spot", { expectedCostUsd: 25, gpus: 8 })
    yield* ledger.createJob({ id, name: "synthetic", runner: "ec2", specJson: "{}" })
    const attempts = fate === "running" ? 1 : 1 + Math.floor(next() * 3)
    let costUsd = 0
    for (let sequence = 1; sequence <= attempts; sequence++) {
      const last = sequence === attempts
      const opened = yield* ledger.startAttempt({ id: `${id}-${sequence}`, jobId: id, runner: "ec2", placement: placement(!last || next() < 0.7), checkpointEverySeconds: 900 })
      if (fate === "running" && last) {
        yield* ledger.touchAttempt(opened.id, 10)
        break
      }
      const exit: AttemptExit = !last
        ? next() < 0.3 ? { _tag: "ProvisionFailed", code: pick(["InsufficientInstanceCapacity", "MaxSpotInstanceCountExceeded"]), detail: "no capacity", scope: "pool" } : { _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" }
        : next() < 0.9 ? { _tag: "Completed" } : { _tag: "Crashed", code: 1, signal: null }
      if (exit._tag !== "ProvisionFailed") {
        yield* TestClock.adjust(`${20 + Math.round(next() * 100)} minutes`)
        yield* ledger.recordEvent(opened.id, { kind: "checkpoint", step: 100 * sequence, payload: { event: "checkpoint", step: 100 * sequence, bytes: 2 ** 30, blockingSeconds: 1.5 } })
      }
      costUsd += (yield* ledger.finishAttempt(opened.id, exit)).costUsd
    }
    if (fate === "running") runningIds.push(id)
    else yield* store.finish(id, pick(["completed", "completed", "completed", "failed", "cancelled"]), "ended", costUsd)
  }
}).pipe(Effect.provide(TestClock.layer())))
console.log(`(seeded ${JOBS.toLocaleString("en-US")} jobs in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s)`)

// As `frugal server` starts: the read model's indexes, the routes, ECharts loading in the background.
const scope = await Effect.runPromise(Scope.make())
const routes = [metricsRoute(config, makeServerMetrics()), ...dashboardRoutes(config)]
const port = await runtime.runPromise(Effect.andThen(
  prepareReadModel,
  Scope.provide(scope)(serveHttp(routes, makeAuthenticator(config.tokens), { host: "127.0.0.1", port: 0, maxBodyBytes: 1 << 20, log: () => undefined }))
))
preloadDashboard()
await new Promise((resolve) => setTimeout(resolve, 3000))
const origin = `http://127.0.0.1:${port}`
const cookie = `frugal_session=${Buffer.from(ADMIN).toString("base64url")}`

const stats = (millis: ReadonlyArray<number>) => {
  const sorted = [...millis].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { median: at(0.5), text: `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms` }
}
const timed = async (url: string, headers: Record<string, string>) => {
  const started = performance.now()
  const response = await fetch(url, { headers })
  const body = await response.text()
  return { millis: performance.now() - started, status: response.status, bytes: Buffer.byteLength(body) }
}

// First page load.
const cold = await timed(`${origin}/`, { cookie })
const warm: Array<number> = []
for (let i = 0; i < 15; i++) warm.push((await timed(`${origin}/`, { cookie })).millis)
// A page drawn afresh: a heartbeat changes the ledger before each load, so none is served from the last render.
const fresh: Array<number> = []
for (let i = 0; i < 10; i++) {
  await runtime.runPromise(Effect.flatMap(Effect.service(Ledger), (ledger) => ledger.touchAttempt(`${runningIds[i]}-1`, 11 + i)))
  fresh.push((await timed(`${origin}/`, { cookie })).millis)
}
console.log(`dashboard / with ${JOBS.toLocaleString("en-US")} jobs (HTML ${(cold.bytes / 1024).toFixed(0)} KiB):`)
console.log(`  first load after start ${cold.millis.toFixed(0)} ms; drawn afresh ${stats(fresh).text}; unchanged since the last render ${stats(warm).text}`)

const chromium = "/usr/bin/chromium"
if (existsSync(chromium)) {
  const { chromium: browserType } = await import("playwright-core")
  const browser = await browserType.launch({ executablePath: chromium, headless: true })
  const context = await browser.newContext()
  await context.addCookies([{ name: "frugal_session", value: Buffer.from(ADMIN).toString("base64url"), url: origin }])
  const page = await context.newPage()
  const paints: Array<number> = []
  for (let i = 0; i < 5; i++) {
    await page.goto(`${origin}/`, { waitUntil: "load" })
    paints.push(await page.evaluate(() =>
      new Promise<number>((resolve) =>
        new PerformanceObserver((list) => {
          const paint = list.getEntries().find((entry) => entry.name === "first-contentful-paint")
          if (paint !== undefined) resolve(paint.startTime)
        }).observe({ type: "paint", buffered: true })
      )
    ))
  }
  await browser.close()
  console.log(`  in Chromium, first contentful paint: ${stats(paints).text} (from navigation start; the first visit also loads the stylesheet and script)`)
} else {
  console.log("  (no Chromium at /usr/bin/chromium: first paint not measured)")
}

// /metrics: the first scrape reads every admission; later ones read what changed since.
const scrape = () => timed(`${origin}/metrics`, { authorization: `Bearer ${SCRAPE}` })
const firstScrape = await scrape()
const scrapes: Array<number> = []
for (let i = 0; i < 20; i++) {
  await runtime.runPromise(Effect.flatMap(Effect.service(Ledger), (ledger) => ledger.touchAttempt(`${runningIds[i]}-1`, 30 + i)))
  scrapes.push((await scrape()).millis)
}
const afterClose: Array<number> = []
for (let i = 0; i < 10; i++) {
  // An attempt ends (its job's next one starts): the closed attempts' sums are read again.
  await runtime.runPromise(Effect.gen(function*() {
    const ledger = yield* Ledger
    yield* ledger.finishAttempt(`${runningIds[i]}-1`, { _tag: "Interrupted", resumable: true, reason: "Server.SpotInstanceTermination" })
    yield* ledger.startAttempt({ id: `${runningIds[i]}-2`, jobId: runningIds[i] ?? "", runner: "ec2", placement: placement(true), checkpointEverySeconds: 900 })
  }))
  afterClose.push((await scrape()).millis)
}
console.log(`/metrics with ${JOBS.toLocaleString("en-US")} jobs (${(firstScrape.bytes / 1024).toFixed(1)} KiB of text):`)
console.log(`  first scrape after start ${firstScrape.millis.toFixed(0)} ms; a running job's cost accrued since the last: ${stats(scrapes).text}`)
console.log(`  an attempt ended since the last: ${stats(afterClose).text}`)

/** One keep-alive connection that counts every byte it sends and receives, like a browser tab's. */
const rawClient = async () => {
  const socket = connect(port, "127.0.0.1")
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()))
  let pending: Buffer = Buffer.alloc(0)
  let waiting: ((answer: { status: number; body: string }) => void) | undefined
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    const end = pending.indexOf("\r\n\r\n")
    if (end < 0 || waiting === undefined) return
    const head = pending.subarray(0, end).toString("latin1")
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? "0")
    if (pending.length < end + 4 + length) return
    const raw = pending.subarray(end + 4, end + 4 + length)
    const body = (/content-encoding: gzip/i.test(head) ? gunzipSync(raw) : raw).toString("utf8")
    pending = pending.subarray(end + 4 + length)
    const resolve = waiting
    waiting = undefined
    resolve({ status: Number(head.split(" ")[1]), body })
  })
  return {
    get: (target: string) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        waiting = resolve
        // What a browser sends with a fetch from the page, give or take its user agent.
        socket.write(
          `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\nAccept: application/json\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/130\r\n` +
            `Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n`
        )
      }),
    bytes: () => socket.bytesRead + socket.bytesWritten,
    close: () => socket.destroy()
  }
}

/** A page polling every 2 s for a minute; `between` runs before each poll (what changes meanwhile). */
const minuteOfPolling = async (between: (poll: number) => Promise<void>) => {
  const client = await rawClient()
  let version = ""
  let have = ""
  const first = await client.get(`/live/overview?v=&have=`)
  const regions: Record<string, { html: string; hash: string }> = JSON.parse(first.body).regions
  version = JSON.parse(first.body).v
  have = Object.entries(regions).map(([name, region]) => `${name}:${region.hash}`).join(",")
  const before = client.bytes()
  const times = { unchanged: [] as Array<number>, changed: [] as Array<number> }
  for (let poll = 0; poll < 30; poll++) {
    await between(poll)
    const started = performance.now()
    const answer = await client.get(`/live/overview?v=${encodeURIComponent(version)}&have=${encodeURIComponent(have)}`)
    const millis = performance.now() - started
    if (answer.status === 204) {
      times.unchanged.push(millis)
      continue
    }
    times.changed.push(millis)
    const update: { v: string; regions: Record<string, { hash: string }> } = JSON.parse(answer.body)
    version = update.v
    const held = new Map(have.split(",").map((part) => part.split(":") as [string, string]))
    for (const [name, region] of Object.entries(update.regions)) held.set(name, region.hash)
    have = [...held.entries()].map(([name, hash]) => `${name}:${hash}`).join(",")
  }
  const bytes = client.bytes() - before
  client.close()
  return { bytes, times }
}

const idle = await minuteOfPolling(async () => undefined)
let submitted = 0
const busy = await minuteOfPolling((poll) =>
  runtime.runPromise(Effect.gen(function*() {
    const ledger = yield* Ledger
    // A heartbeat of a running job before every poll: its cost accrues, so the queue and the budgets change.
    yield* ledger.touchAttempt(`${runningIds[poll % runningIds.length]}-1`, 20 + poll)
    if (poll % 5 === 0) yield* (yield* QueueStore).submit(newJob(`late-${submitted++}`))
  }))
)
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
console.log(`live updates, one open page polling every 2 s (30 polls a minute):`)
console.log(`  nothing changes: ${kib(idle.bytes)} per minute; a 204 poll takes ${stats(idle.times.unchanged).text}`)
console.log(
  `  a job running (heartbeat every poll) and a submission every 10 s: ${kib(busy.bytes)} per minute; a poll that renders the changes takes ${stats(busy.times.changed).text}`
)
console.log(`  latency from a change to the page: the time to the next poll (1 s on average, 2 s at most) plus the poll itself`)

await Effect.runPromise(Scope.close(scope, Exit.void))
await runtime.dispose()
rmSync(root, { recursive: true, force: true })
const firstRender = stats(fresh).median
const scrapeMillis = stats(afterClose).median
if (firstRender > 500 || scrapeMillis > 100) {
  console.error(`over target: a page drawn afresh ${firstRender.toFixed(0)} ms (target 500), /metrics ${scrapeMillis.toFixed(0)} ms (target 100)`)
  process.exitCode = 1
}
