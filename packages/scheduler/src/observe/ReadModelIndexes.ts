/**
 * Indexes for the read model, applied through the ledger's migrations as their own component (`observe`), after the
 * runner's and the scheduler's tables exist. Without them every stamp, count and wait is a scan of the whole queue
 * or of every attempt; with them a poll that finds nothing changed reads a few index pages (bench/dashboard.bench.ts).
 */
import { Ledger, type LedgerError, type Migration } from "@frugal/runner"
import { Effect } from "effect"

export const OBSERVE_MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "indexes for the dashboard and /metrics: jobs by team and state, changes, admissions, attempt starts and endings",
    sql: `
      CREATE INDEX IF NOT EXISTS queue_by_team_state ON queue(team, state);
      CREATE INDEX IF NOT EXISTS queue_by_update ON queue(updated_ms);
      CREATE INDEX IF NOT EXISTS queue_decisions_by_kind ON queue_decisions(decision, job_id, id);
      CREATE INDEX IF NOT EXISTS attempts_by_ending ON attempts(exit_reason, ended_ms);
      CREATE INDEX IF NOT EXISTS attempts_by_end ON attempts(ended_ms);
      CREATE INDEX IF NOT EXISTS attempts_by_start ON attempts(started_ms);
    `
  }
]

/** Creates the read model's indexes once per ledger (a no-op when they exist). */
export const prepareReadModel: Effect.Effect<ReadonlyArray<number>, LedgerError, Ledger> = Effect.flatMap(
  Effect.service(Ledger),
  (ledger) => ledger.migrate("observe", OBSERVE_MIGRATIONS)
)
