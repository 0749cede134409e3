/**
 * `frugal server` put together: the config file (teams, budgets, tokens from the environment), the ledger (the
 * SQLite file by default, PostgreSQL with `--ledger postgres://…`), the queue in it, the wake-up signal and the
 * leadership that fit that ledger, the launcher over `frugal run`'s path, and the server itself. The CLI command
 * only parses its flags and calls this.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type InvalidInput, type LocalFailure, type RemoteServiceFailure } from "@frugal/core"
import { readInputFile } from "@frugal/core/io"
import type { PriceCatalog, QuotaSource } from "@frugal/pricing"
import { defaultLedgerPath, Ledger, type LedgerError } from "@frugal/runner"
import { Leadership, QueueSignal, QueueStore, type QueueStoreError, SchedulerSql } from "@frugal/scheduler"
import { decodeServerConfig, serveScheduler, type ServerConfig } from "@frugal/server"
import { schedulerLauncher } from "./SchedulerLauncher.ts"

export interface ServerRequest {
  /** `scheduler.yaml`. */
  readonly config: string
  readonly infra?: string | undefined
  /** A SQLite file path or a `postgres://` URL; default `$FRUGAL_HOME/ledger.sqlite`. */
  readonly ledger?: string | undefined
  readonly host: string
  readonly port: number
  readonly catalog: Layer.Layer<PriceCatalog, InvalidInput | RemoteServiceFailure>
  readonly quotas: Layer.Layer<QuotaSource>
  readonly version: string
  readonly log: (line: string) => void
  readonly onListening?: (port: number) => void
}

export type ServeError = InvalidInput | RemoteServiceFailure | LocalFailure | LedgerError | QueueStoreError

export const isPostgresUrl = (ledger: string): boolean => /^postgres(ql)?:\/\//i.test(ledger)

/** The ledger and what the scheduler keeps beside it, on one storage. */
const storage = (ledger: string): Layer.Layer<Ledger | SchedulerSql | QueueSignal | Leadership, LedgerError | QueueStoreError> => {
  if (isPostgresUrl(ledger)) {
    return Layer.unwrap(Effect.map(Effect.promise(() => import("@frugal/runner/postgres")), (postgres) => {
      const database = postgres.layerPostgres(ledger)
      return Layer.mergeAll(SchedulerSql.postgres, QueueSignal.layerPostgres, Leadership.postgres()).pipe(Layer.provideMerge(database))
    }))
  }
  // One ledger connection (the same layer value is built once); the queue's own opens the file after it migrated it.
  const file = Ledger.layerFile(ledger)
  return Layer.mergeAll(
    file,
    Layer.mergeAll(QueueSignal.layerLocal, Leadership.sqlite().pipe(Layer.provideMerge(SchedulerSql.sqlite(ledger)))).pipe(Layer.provide(file))
  )
}

/** Reads and checks the config file (exit 2 naming each bad field or missing token variable). */
export const loadServerConfig = (path: string, env: Readonly<Record<string, string | undefined>>): Effect.Effect<ServerConfig, InvalidInput> =>
  Effect.flatMap(readInputFile(path, { kind: "schedulerConfig", flag: "--config" }), (text) => decodeServerConfig(text, path, env))

export const serveFrugal = (request: ServerRequest, env: NodeJS.ProcessEnv): Effect.Effect<never, ServeError> =>
  Effect.gen(function*() {
    const config = yield* loadServerConfig(request.config, env)
    const ledger = request.ledger ?? defaultLedgerPath(env)
    const base = storage(ledger)
    const launcher = schedulerLauncher({ env, infra: request.infra }).pipe(Layer.provide(Layer.mergeAll(request.catalog, request.quotas)))
    const services = Layer.mergeAll(QueueStore.layer, launcher).pipe(Layer.provideMerge(base))
    return yield* serveScheduler({
      host: request.host,
      port: request.port,
      config,
      version: request.version,
      log: request.log,
      ...(request.onListening === undefined ? {} : { onListening: request.onListening })
    }).pipe(Effect.provide(services))
  }).pipe(Effect.scoped)
