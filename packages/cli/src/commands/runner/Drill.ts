/** `frugal drill` behind its flags (loaded lazily: it starts processes). The drill is the SDK's `drillWorkload`. */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { DrillFailed, type DrillReport, drillJson, drillWorkload } from "@frugal/sdk/jobs"
import { environment } from "../../Environment.ts"
import { withFlagNames } from "../../FieldFlags.ts"
import { renderTable } from "../../Table.ts"
import { readWorkloadText } from "../../WorkloadInput.ts"

export interface DrillInput {
  readonly file: string
  readonly interruptions: number
  readonly seed: number
  readonly hardKill: boolean
  readonly graceSeconds: number
  readonly json: boolean
}

const text = (report: DrillReport): ReadonlyArray<string> => {
  const secondsPerStep = report.referenceSteps > 0 ? report.referenceTrainingSeconds / report.referenceSteps : 0
  return [
    `reference run:   ${report.referenceSteps} steps in ${report.referenceTrainingSeconds.toFixed(1)} s`,
    `reference hash:  ${report.referenceHash}`,
    `final hash:      ${report.finalHash}`,
    report.identical
      ? `IDENTICAL: ${report.interruptions.length} ${report.hardKill ? "SIGKILL" : "SIGTERM"} interruption(s), same weights bit for bit`
      : "DIFFERENT: the interrupted run ended with other weights; resume is not exact",
    "",
    ...renderTable(
      [
        { header: "#", align: "right" },
        { header: "SIGNAL" },
        { header: "AT STEP", align: "right" },
        { header: "LAST CKPT", align: "right" },
        { header: "RESUMED FROM", align: "right" },
        { header: "LOST STEPS", align: "right" },
        { header: "LOST s", align: "right" },
        { header: "RESTART s", align: "right" }
      ],
      report.interruptions.map((interruption, i) => [
        String(i + 1),
        interruption.signal,
        String(interruption.atStep),
        interruption.lastCheckpointStep === null ? "—" : String(interruption.lastCheckpointStep),
        String(interruption.resumedFromStep),
        String(interruption.lostSteps),
        (interruption.lostSteps * secondsPerStep).toFixed(2),
        interruption.restartSeconds.toFixed(1)
      ])
    ),
    "",
    `checkpoint overhead: ${report.checkpointOverheadPct.toFixed(2)}% (loop blocked writing checkpoints, per reference training time)`
  ]
}

export const run = (input: DrillInput) =>
  Effect.gen(function*() {
    const report = yield* drillWorkload(yield* readWorkloadText(input.file), {
      source: input.file,
      interruptions: input.interruptions,
      seed: input.seed,
      hardKill: input.hardKill,
      graceSeconds: input.graceSeconds,
      onProgress: (line) => Console.error(`drill: ${line}`),
      env: environment
    }).pipe(withFlagNames(["interruptions", "graceSeconds"]))
    yield* Console.log(input.json ? JSON.stringify(drillJson(report), null, 2) : text(report).join("\n"))
    if (!report.identical) {
      return yield* new DrillFailed({ run: "interrupted", detail: "final weights differ from the uninterrupted run" })
    }
  })
