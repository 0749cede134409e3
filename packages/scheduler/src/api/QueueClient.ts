/**
 * A client of `frugal server`'s API, for the CLI (`frugal submit | queue | cancel`), the SDK and the Slack bot. The
 * server's URL and a team's token come from `FRUGAL_SERVER` and `FRUGAL_TOKEN` (or are given); the token travels only
 * in the `Authorization` header and is held `Redacted`. Reads and cancels are retried with backoff on network
 * errors and 5xx answers; a submission only when the connection was refused (it never reached the server), so a
 * job is never queued twice. Answers are decoded with the contract's Schemas; the server's errors become the
 * errors every front door maps to exit codes (400 → InvalidInput, 422 → NoFeasiblePlacement, 5xx → remote failure).
 */
import { InvalidInput, NoFeasiblePlacement, RemoteServiceFailure } from "@frugal/core"
import { Config, Duration, Effect, Option, Redacted, Schedule, Schema } from "effect"
import {
  BudgetsResponse,
  CancelResponse,
  ErrorBody,
  JobDetail,
  JobsResponse,
  type SubmitRequest,
  SubmitResponse
} from "./QueueApi.ts"

export interface ServerAccess {
  /** `http://127.0.0.1:8080`: where `frugal server` listens. */
  readonly serverUrl: string
  readonly token: Redacted.Redacted<string>
}

export type ClientError = InvalidInput | NoFeasiblePlacement | RemoteServiceFailure

const missing = (name: string, expected: string) => new InvalidInput({ source: "environment", issues: [{ path: name, expected }] })

/** The server and token: the arguments when given, else FRUGAL_SERVER and FRUGAL_TOKEN. */
export const serverAccess = (given: { readonly serverUrl?: string | undefined; readonly token?: string | undefined } = {}): Effect.Effect<ServerAccess, InvalidInput> =>
  Effect.gen(function*() {
    const url = given.serverUrl ?? Option.getOrUndefined(yield* Config.option(Config.String("FRUGAL_SERVER")).pipe(Effect.orElseSucceed(() => Option.none())))
    const token = given.token === undefined
      ? Option.getOrUndefined(yield* Config.option(Config.Redacted("FRUGAL_TOKEN")).pipe(Effect.orElseSucceed(() => Option.none())))
      : Redacted.make(given.token)
    if (url === undefined || url.trim() === "") return yield* missing("FRUGAL_SERVER", "the URL of frugal server, like http://127.0.0.1:8080 (or --server)")
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      return yield* new InvalidInput({ source: "--server", issues: [{ path: "--server", expected: "an http:// or https:// URL", actual: url }] })
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return yield* new InvalidInput({ source: "--server", issues: [{ path: "--server", expected: "an http:// or https:// URL", actual: url }] })
    }
    if (token === undefined || Redacted.value(token) === "") return yield* missing("FRUGAL_TOKEN", "your team's token for frugal server")
    return { serverUrl: parsed.toString().replace(/\/$/, ""), token }
  })

interface Call<A> {
  readonly method: "GET" | "POST"
  readonly path: string
  readonly body?: unknown
  readonly response: Schema.Decoder<A>
  /** Safe to send again after a failure that may have reached the server. */
  readonly idempotent: boolean
  /** Names the job in 403/404 messages. */
  readonly jobId?: string
}

class Retryable extends Schema.TaggedError<Retryable>()("Retryable", { detail: Schema.String, refused: Schema.Boolean }) {}

const decodeError = Schema.decodeUnknownOption(ErrorBody)

const send = <A>(access: ServerAccess, call: Call<A>): Effect.Effect<A, ClientError> => {
  const operation = `${call.method} ${call.path}`
  const attempt = Effect.gen(function*() {
    const response = yield* Effect.tryPromise({
      try: (signal) =>
        fetch(`${access.serverUrl}${call.path}`, {
          method: call.method,
          headers: {
            authorization: `Bearer ${Redacted.value(access.token)}`,
            accept: "application/json",
            ...(call.body === undefined ? {} : { "content-type": "application/json" })
          },
          ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
          signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)])
        }),
      catch: (cause) => {
        const code = cause instanceof Error && cause.cause instanceof Error ? Reflect.get(cause.cause, "code") : undefined
        return new Retryable({ detail: cause instanceof Error ? `${cause.message}${typeof code === "string" ? ` (${code})` : ""}` : String(cause), refused: code === "ECONNREFUSED" })
      }
    })
    const text = yield* Effect.tryPromise({
      try: () => response.text(),
      catch: (cause) => new Retryable({ detail: `reading the answer: ${cause instanceof Error ? cause.message : String(cause)}`, refused: false })
    })
    let json: unknown
    try {
      json = text === "" ? null : JSON.parse(text)
    } catch {
      json = undefined
    }
    if (response.status >= 500) return yield* new Retryable({ detail: `HTTP ${response.status}${bodyMessage(json)}`, refused: false })
    if (response.status >= 400) return yield* clientError(response.status, json, call)
    return yield* Schema.decodeUnknownEffect(call.response)(json).pipe(
      Effect.mapError((error) => new RemoteServiceFailure({ service: "frugal server", operation, detail: `unexpected answer: ${error.message}` }))
    )
  })
  return attempt.pipe(
    Effect.retry({
      while: (error) => error._tag === "Retryable" && (call.idempotent || error.refused),
      schedule: Schedule.exponential(Duration.millis(200)),
      times: 3
    }),
    Effect.catchTag("Retryable", (error) => Effect.fail(new RemoteServiceFailure({ service: "frugal server", operation, detail: `${access.serverUrl}: ${error.detail}` })))
  )
}

const bodyMessage = (json: unknown): string => {
  const decoded = decodeError(json)
  return Option.isSome(decoded) ? `: ${decoded.value.error.message}` : ""
}

const clientError = <A>(status: number, json: unknown, call: Call<A>): Effect.Effect<never, ClientError> => {
  const decoded = decodeError(json)
  const message = Option.isSome(decoded) ? decoded.value.error.message : `HTTP ${status}`
  if (Option.isSome(decoded)) {
    const error = decoded.value.error
    if (error.code === "no_feasible_placement") {
      return Effect.fail(new NoFeasiblePlacement({ workload: call.jobId ?? "workload", constraint: error.constraint ?? "constraints", detail: error.message }))
    }
    if (error.code === "invalid_input" && error.issues !== undefined && error.issues.length > 0) {
      return Effect.fail(new InvalidInput({ source: "frugal server", issues: error.issues }))
    }
  }
  if (status === 401) return Effect.fail(new InvalidInput({ source: "FRUGAL_TOKEN", issues: [{ path: "FRUGAL_TOKEN", expected: `a token the server accepts (${message})` }] }))
  if (status === 403 || status === 404) {
    return Effect.fail(new InvalidInput({
      source: "JOB",
      issues: [{ path: call.jobId === undefined ? "--team" : "JOB", expected: message, ...(call.jobId === undefined ? {} : { actual: call.jobId }) }]
    }))
  }
  return Effect.fail(new InvalidInput({ source: "frugal server", issues: [{ path: "", expected: message }] }))
}

/** `POST /api/v1/jobs`. */
export const submitJob = (access: ServerAccess, request: SubmitRequest): Effect.Effect<SubmitResponse, ClientError> =>
  send(access, { method: "POST", path: "/api/v1/jobs", body: request, response: SubmitResponse, idempotent: false })

/** `GET /api/v1/jobs`. */
export const listJobs = (access: ServerAccess, filter: { readonly team?: string | undefined; readonly state?: string | undefined } = {}): Effect.Effect<JobsResponse, ClientError> => {
  const query = new URLSearchParams()
  if (filter.team !== undefined) query.set("team", filter.team)
  if (filter.state !== undefined) query.set("state", filter.state)
  const suffix = query.size === 0 ? "" : `?${query.toString()}`
  return send(access, { method: "GET", path: `/api/v1/jobs${suffix}`, response: JobsResponse, idempotent: true })
}

/** `GET /api/v1/jobs/{id}`. */
export const getJob = (access: ServerAccess, jobId: string): Effect.Effect<JobDetail, ClientError> =>
  send(access, { method: "GET", path: `/api/v1/jobs/${encodeURIComponent(jobId)}`, response: JobDetail, idempotent: true, jobId })

/** `POST /api/v1/jobs/{id}/cancel`. */
export const cancelJob = (access: ServerAccess, jobId: string): Effect.Effect<CancelResponse, ClientError> =>
  send(access, { method: "POST", path: `/api/v1/jobs/${encodeURIComponent(jobId)}/cancel`, response: CancelResponse, idempotent: true, jobId })

/** `GET /api/v1/budgets`. */
export const getBudgets = (access: ServerAccess): Effect.Effect<BudgetsResponse, ClientError> =>
  send(access, { method: "GET", path: "/api/v1/budgets", response: BudgetsResponse, idempotent: true })
