/**
 * `@frugal/sdk/jobs`: running jobs (prepare, dry run, run, resume, status, logs, drill) over the engines. A separate
 * entry point, because it loads the ledger (SQLite) and the engines, which planning never needs.
 */
export * from "./Drill.ts"
export * from "./EngineSetup.ts"
export * from "./EventText.ts"
export * from "../InfraProfileFile.ts"
export * from "./JobLogs.ts"
export * from "./JobRuns.ts"
export * from "./Jobs.ts"
export * from "./RunJob.ts"
export * from "./TrainerLaunch.ts"
export {
  DrillFailed,
  type DrillReport,
  drillJson,
  EngineUnavailable,
  JobLeased,
  JobNotFound,
  JobSpecUnreadable,
  LeaseLost,
  Ledger,
  LedgerError,
  RunnerError,
  WorkloadMismatch
} from "@frugal/runner"
export { PythonNotFound } from "@frugal/trainer"
