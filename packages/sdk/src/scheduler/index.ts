/**
 * `@frugal/sdk/scheduler`: `frugal server` (the scheduler with its HTTP API, over the SQLite or PostgreSQL ledger)
 * and its clients (`submit`, `queue`, `cancel`), as Effect functions. A separate entry point: serving loads the
 * ledger and the engines, and the clients need neither.
 */
export * from "./QueueCommands.ts"
export * from "./SchedulerLauncher.ts"
export * from "./ServeScheduler.ts"
