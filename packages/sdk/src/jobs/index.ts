/**
 * `@frugal/sdk/jobs`: running jobs (prepare, dry run, run, resume, status) over the engines. A separate entry point,
 * because it loads the ledger (SQLite) and the engines, which planning never needs.
 */
export * from "./EngineSetup.ts"
export * from "../InfraProfileFile.ts"
export * from "./JobRuns.ts"
export * from "./Jobs.ts"
export * from "./TrainerLaunch.ts"
