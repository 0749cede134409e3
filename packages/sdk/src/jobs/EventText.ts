/**
 * One line of text per trainer event, the same words `frugal run` prints while a job runs and `frugal logs` prints
 * after: `step 20/40  loss 5.1234  2,470 tokens/s`.
 */
import type { TrainerEvent } from "@frugal/trainer"

export const trainerEventText = (
  event: TrainerEvent,
  context: { readonly maxSteps?: number | null | undefined; readonly where?: string | undefined } = {}
): string => {
  const maxSteps = context.maxSteps ?? null
  switch (event.event) {
    case "started":
      return `started${context.where === undefined ? "" : ` on ${context.where}`} (pid ${event.pid}, ${event.device}, ${event.precision})${
        event.resumedFromStep === null ? ", fresh" : `, resumed from step ${event.resumedFromStep}`
      }`
    case "step": {
      const loss = event.loss === null ? "n/a" : event.loss.toFixed(4)
      return `step ${event.step}${maxSteps === null ? "" : `/${maxSteps}`}  loss ${loss}  ${Math.round(event.tokensPerSecond).toLocaleString("en-US")} tokens/s`
    }
    case "checkpoint":
      return `checkpoint at step ${event.step} (${(event.bytes / 1e6).toFixed(1)} MB, loop blocked ${event.blockingSeconds.toFixed(3)} s)`
    case "interrupted":
      return `interrupted by ${event.reason} at step ${event.step}, final checkpoint ${event.checkpointStep ?? "none"}`
    case "completed":
      return `completed at step ${event.step}, weights sha256 ${event.weightsSha256}`
    case "checkpoints-invalid":
      return `no valid checkpoint in ${event.checkpointDir}: ${event.rejected.length} failed verification`
  }
}
