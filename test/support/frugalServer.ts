/**
 * `frugal server` as a user starts it (the real CLI process on loopback), and what the scheduler tests read back:
 * the API over HTTP and the ledger's rows. Tokens are made up per test; the server reads them from its environment.
 */
import { Schema } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { example, type FrugalProcess, runFrugal, startFrugal } from "./frugalCli.ts"

export interface RunningServer {
  readonly url: string
  readonly process: FrugalProcess
  /** Everything the server wrote to stderr so far (its log). */
  readonly log: () => string
  readonly kill: (signal: NodeJS.Signals) => Promise<void>
}

/** Starts `frugal server … --port 0` and waits until it listens. */
export const startServer = async (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>): Promise<RunningServer> => {
  const process = startFrugal(["server", "--port", "0", ...args], { env })
  const url = await new Promise<string>((resolve, reject) => {
    const started = Date.now()
    const poll = setInterval(() => {
      const found = /listening on (http:\/\/[\d.:]+)/.exec(process.stderr())
      if (found?.[1] !== undefined) {
        clearInterval(poll)
        resolve(found[1])
      } else if (process.child.exitCode !== null || Date.now() - started > 60_000) {
        clearInterval(poll)
        reject(new Error(`frugal server did not start: ${process.stderr()}`))
      }
    }, 50)
  })
  return {
    url,
    process,
    log: process.stderr,
    kill: async (signal) => {
      if (process.child.exitCode !== null || process.child.signalCode !== null) return
      process.child.kill(signal)
      await process.done
    }
  }
}

export interface Answer {
  readonly status: number
  readonly body: unknown
}

export const call = async (url: string, token: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
  })
  const text = await response.text()
  return { status: response.status, body: text === "" ? null : JSON.parse(text) }
}

const JobState = Schema.Struct({
  id: Schema.String,
  state: Schema.String,
  reason: Schema.NullOr(Schema.String),
  submittedAtMillis: Schema.Number,
  admittedAt: Schema.NullOr(Schema.String)
})
const decodeJob = Schema.decodeUnknownSync(Schema.Struct({ job: JobState }))
const decodeSubmitted = Schema.decodeUnknownSync(Schema.Struct({ id: Schema.String }))

export const submit = async (url: string, token: string, workload: string, fields: { readonly priority?: number; readonly team?: string } = {}): Promise<string> => {
  const answer = await call(url, token, "POST", "/api/v1/jobs", { workload, ...fields })
  if (answer.status !== 201) throw new Error(`submit: ${answer.status} ${JSON.stringify(answer.body)}`)
  return decodeSubmitted(answer.body).id
}

export const jobState = async (url: string, token: string, id: string) => decodeJob((await call(url, token, "GET", `/api/v1/jobs/${id}`)).body).job

const decodeSupervisor = Schema.decodeUnknownSync(Schema.Struct({
  supervisor: Schema.NullOr(Schema.Struct({ pid: Schema.Number, host: Schema.String, label: Schema.String }))
}))

/** Who supervises the job now, as the server says (from the job's lease); null when nobody does. */
export const jobSupervisor = async (url: string, token: string, id: string) =>
  decodeSupervisor((await call(url, token, "GET", `/api/v1/jobs/${id}`)).body).supervisor

/** Polls until `check` holds, every 200 ms, for at most `seconds`. */
export const eventually = async <A>(what: string, seconds: number, check: () => Promise<A | undefined>): Promise<A> => {
  const deadline = Date.now() + seconds * 1000
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const found = await check()
      if (found !== undefined) return found
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}${last === undefined ? "" : `: ${String(last)}`}`)
}

/** A tiny-train workload (examples/run/tiny-train.yaml) of `steps` steps that reserves `budgetUsd` when queued. */
export const tinyWorkload = (name: string, options: { readonly steps?: number; readonly budgetUsd?: number } = {}): string => `
name: ${name}
kind: training
model: { parameters: 120K, precision: fp32, layers: 2, hiddenSize: 64, heads: 4, vocabSize: 256 }
training: { tokens: ${(options.steps ?? 40) * 128}, sequenceLength: 32, microBatchSize: 4 }
constraints: { budgetUsd: ${options.budgetUsd ?? 0.25} }
run:
  env: { FRUGAL_CHECKPOINT_EVERY_STEPS: "5" }
`

/** The weights hash of the same workload run once by `frugal run`, uninterrupted, in its own FRUGAL_HOME. */
export const referenceHash = async (workload: string): Promise<string> => {
  const home = mkdtempSync(join(tmpdir(), "frugal-reference-"))
  const file = join(home, "workload.yaml")
  writeFileSync(file, workload)
  const run = await runFrugal(["run", file, "--job-id", "reference"], { env: { FRUGAL_HOME: home } })
  const hash = /weights sha256: ([0-9a-f]{64})/.exec(run.stdout)?.[1]
  if (run.code !== 0 || hash === undefined) throw new Error(`reference run failed: ${run.stderr}`)
  return hash
}

export const LedgerAttempt = Schema.Struct({
  id: Schema.String,
  job_id: Schema.String,
  sequence: Schema.Number,
  started_ms: Schema.Number,
  last_seen_ms: Schema.Number,
  ended_ms: Schema.NullOr(Schema.Number),
  exit_reason: Schema.NullOr(Schema.String),
  cost_usd: Schema.NullOr(Schema.Number),
  hourly_price_usd: Schema.Number,
  accelerators_per_instance: Schema.Number,
  instance_count: Schema.Number,
  pid: Schema.NullOr(Schema.Number)
})
export type LedgerAttempt = typeof LedgerAttempt.Type

export const QueueRow = Schema.Struct({
  id: Schema.String,
  team: Schema.String,
  state: Schema.String,
  submitted_ms: Schema.Number,
  admitted_ms: Schema.NullOr(Schema.Number),
  expected_cost_usd: Schema.Number
})

export const DecisionRow = Schema.Struct({ job_id: Schema.String, time_ms: Schema.Number, decision: Schema.String, reason: Schema.NullOr(Schema.String) })

export const RunnerJob = Schema.Struct({ id: Schema.String, status: Schema.String, weights_sha256: Schema.NullOr(Schema.String) })

/** The rows a test checks, read from the SQLite ledger file. */
export const readLedger = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return {
      attempts: Schema.decodeUnknownSync(Schema.Array(LedgerAttempt))(db.prepare("SELECT * FROM attempts ORDER BY started_ms, id").all()),
      queue: Schema.decodeUnknownSync(Schema.Array(QueueRow))(db.prepare("SELECT * FROM queue ORDER BY submitted_ms").all()),
      decisions: Schema.decodeUnknownSync(Schema.Array(DecisionRow))(db.prepare("SELECT * FROM queue_decisions ORDER BY id").all()),
      jobs: Schema.decodeUnknownSync(Schema.Array(RunnerJob))(db.prepare("SELECT id, status, weights_sha256 FROM jobs").all())
    }
  } finally {
    db.close()
  }
}

export const writeConfig = (directory: string, name: string, text: string): string => {
  const path = join(directory, name)
  writeFileSync(path, text)
  return path
}

export { example }
