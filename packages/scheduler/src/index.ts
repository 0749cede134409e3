/**
 * `@frugal/scheduler`: a team's queue of GPU work. The pure rules (admission, order and aging, deadline fit,
 * preemption, commitments first, month spend), the queue in the ledger, and the loop that runs the jobs while this
 * process leads. The HTTP contract and its client are at `@frugal/scheduler/api`.
 */
export * from "./Admission.ts"
export * from "./Commitments.ts"
export * from "./DeadlineFit.ts"
export * from "./JobLauncher.ts"
export * from "./Leadership.ts"
export * from "./Preemption.ts"
export * from "./QueueActions.ts"
export * from "./QueueOrder.ts"
export * from "./QueueSignal.ts"
export * from "./QueueStates.ts"
export * from "./SchedulerLoop.ts"
export * from "./SchedulerPolicy.ts"
export * from "./SchedulingPass.ts"
export * from "./Spend.ts"
export * from "./Usage.ts"
export * from "./store/QueueRecords.ts"
export * from "./store/QueueStore.ts"
export * from "./store/SchedulerSql.ts"
export * from "./observe/DashboardView.ts"
export * from "./observe/LedgerReadModel.ts"
export * from "./observe/MetricsSnapshot.ts"
export * from "./observe/Observations.ts"
export type { CostedAttempt, ListedJob } from "./observe/ReadModelRows.ts"
