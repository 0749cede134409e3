/**
 * `frugal server [--config F] [--infra F] [--ledger PATH|postgres://…] [--host H] [--port N] [--catalog …]`: the
 * scheduler for a team's GPU work and its HTTP API (docs/server.md). The ledger, the engines and `pg` load only here.
 */
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import { catalogFlag } from "../Catalogs.ts"
import { within } from "../FlagBounds.ts"
import { lazy } from "../Lazy.ts"

const config = Flag.String("config").pipe(
  Flag.withDescription("The scheduler's config: teams (budgets, GPU limits, token variables), maxGpus, admins (docs/scheduler.md)"),
  Flag.withMetavar("FILE"),
  Flag.withDefault("scheduler.yaml")
)
const infra = Flag.String("infra").pipe(
  Flag.withDescription("Infrastructure profile: what jobs may launch on (default FRUGAL_INFRA, else $XDG_CONFIG_HOME/frugal/infra.yaml, else this machine)"),
  Flag.withMetavar("FILE"),
  Flag.optional
)
const ledger = Flag.String("ledger").pipe(
  Flag.withDescription("Where the ledger and the queue live: a SQLite file (default $FRUGAL_HOME/ledger.sqlite) or postgres://user@host/db, shared by replicas"),
  Flag.withMetavar("PATH|URL"),
  Flag.optional
)
const host = Flag.String("host").pipe(Flag.withDescription("Address to listen on"), Flag.withDefault("127.0.0.1"))
const port = Flag.Int("port").pipe(Flag.withDescription("Port to listen on (0: any free port)"), within("port", 0, 65535, "a port"), Flag.withDefault(8080))

export const server = Command.make("server", { config, infra, ledger, host, port, catalog: catalogFlag }, lazy(() => import("./scheduler/Server.ts"))).pipe(
  Command.withDescription("Serve the team queue: admission by budget, GPU limits and priority, jobs run on the engines, HTTP JSON API with per-team tokens"),
  Command.withExamples([
    { command: "frugal server --config scheduler.yaml", description: "The queue on this machine's ledger, API on 127.0.0.1:8080" },
    { command: "frugal server --config scheduler.yaml --ledger postgres://frugal@db/frugal", description: "One of several replicas sharing PostgreSQL" }
  ])
)
