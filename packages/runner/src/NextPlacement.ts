/**
 * Where the supervisor relaunches after an attempt ends early. The spot policies of `@frugal/planner`
 * (on-demand only, greedy spot, Frugal's deadline-aware policy) are adapted to this shape by the caller,
 * which knows the offers; the runner itself only needs "given what happened, where next?".
 */
import { Effect } from "effect"
import type { AttemptExit } from "./AttemptExit.ts"
import type { AttemptRecord } from "./LedgerRecords.ts"
import type { Placement } from "./Placement.ts"

export interface PlacementContext {
  readonly jobId: string
  /** Where the attempt that just ended ran. */
  readonly current: Placement
  readonly lastExit: AttemptExit
  /** Every attempt of the job so far, oldest first, the one that just ended included. */
  readonly attempts: ReadonlyArray<AttemptRecord>
  /** Newest step known to be safe in a checkpoint, or null before the first one. */
  readonly lastCheckpointStep: number | null
  /** Wall-clock time of the decision. */
  readonly nowMillis: number
}

/** Chooses the next attempt's placement; null stops the job (it is recorded as failed with the policy's reason). */
export type NextPlacement = (context: PlacementContext) => Effect.Effect<Placement | null>

/** Relaunch where the job was: the right choice for local runs and fixed clusters. */
export const samePlacement: NextPlacement = (context) => Effect.succeed(context.current)
