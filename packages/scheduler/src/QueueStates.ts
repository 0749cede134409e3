/** A queued job's states, from submission to its end (ARCHITECTURE.md, "Scheduler"). */
export const QUEUE_STATES = ["queued", "running", "completed", "failed", "cancelled"] as const
export type QueueState = (typeof QUEUE_STATES)[number]
