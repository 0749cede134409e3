/**
 * `frugal submit | queue | cancel` as Effect functions (and what `Frugal.make()` can wrap as `submit`, `queue`,
 * `cancel`): each talks to `frugal server` at FRUGAL_SERVER with FRUGAL_TOKEN (or the server and token given) and
 * returns the object its `--json` prints.
 */
import * as Effect from "effect/Effect"
import {
  cancelJob,
  type CancelResponse,
  type ClientError,
  type JobsResponse,
  listJobs,
  serverAccess,
  submitJob,
  type SubmitResponse
} from "@frugal/scheduler/api"
import type { WorkloadInput } from "../WorkloadInput.ts"

export interface ServerOptions {
  /** Default FRUGAL_SERVER. */
  readonly server?: string | undefined
  /** Default FRUGAL_TOKEN. */
  readonly token?: string | undefined
}

export interface SubmitOptions extends ServerOptions {
  /** The team to submit for: an admin token must name one; a team token defaults to (and may only be) its own. */
  readonly team?: string | undefined
  readonly priority?: number | undefined
}

const access = (options: ServerOptions) => serverAccess({ serverUrl: options.server, token: options.token })

/** Queues a workload (spec text or object) on the server; the server checks and prices it first. */
export const submitWorkload = (workload: WorkloadInput, options: SubmitOptions = {}): Effect.Effect<SubmitResponse, ClientError> =>
  Effect.flatMap(access(options), (server) =>
    submitJob(server, {
      workload: typeof workload === "string" ? workload : { ...workload },
      ...(options.team === undefined ? {} : { team: options.team }),
      ...(options.priority === undefined ? {} : { priority: options.priority })
    }))

/** The jobs the token may see, newest first. */
export const listQueue = (options: ServerOptions & { readonly team?: string | undefined; readonly state?: string | undefined } = {}): Effect.Effect<JobsResponse, ClientError> =>
  Effect.flatMap(access(options), (server) => listJobs(server, { team: options.team, state: options.state }))

/** Cancels a job: at once while queued; a running one checkpoints and stops. */
export const cancelQueued = (jobId: string, options: ServerOptions = {}): Effect.Effect<CancelResponse, ClientError> =>
  Effect.flatMap(access(options), (server) => cancelJob(server, jobId))
