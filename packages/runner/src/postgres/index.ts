/**
 * `@frugal/runner/postgres`: the ledger in PostgreSQL and the connection it shares with other components (the
 * scheduler's queue, leader election). A separate entry point, so that only `--ledger postgres://…` loads `pg`.
 */
export * from "./LedgerPostgres.ts"
export * from "./LedgerPostgresMigrations.ts"
export * from "./Postgres.ts"
