/** `frugal drill` behind its flags (loaded lazily: it starts processes). */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { InvalidInput } from "@frugal/core"
import { drillJson, DrillFailed, type DrillReport, LocalRunner, runDrill } from "@frugal/runner"
import { renderTable } from "../../Table.ts"
import { launchFor, singleWorkload } from "@frugal/sdk/jobs"
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
    if (!Number.isInteger(input.interruptions) || input.interruptions < 1 || input.interruptions > 1000) {
      return yield* new InvalidInput({
        source: "--interruptions",
        issues: [{ path: "--interruptions", expected: "a whole number from 1 to 1000", actual: String(input.interruptions) }]
      })
    }
    if (!(input.graceSeconds >= 0)) {
      return yield* new InvalidInput({
        source: "--grace-seconds",
        issues: [{ path: "--grace-seconds", expected: "a non-negative number of seconds", actual: String(input.graceSeconds) }]
      })
    }
    const workload = yield* singleWorkload(yield* readWorkloadText(input.file), input.file === "-" ? "stdin" : input.file)
    const workDirectory = mkdtempSync(join(tmpdir(), "frugal-drill-"))
    const launch = yield* launchFor(input.file, workload, join(workDirectory, "unused"))
    const report = yield* runDrill(launch, {
      interruptions: input.interruptions,
      seed: input.seed,
      hardKill: input.hardKill,
      graceSeconds: input.graceSeconds,
      workDirectory,
      onProgress: (line) => Console.error(`drill: ${line}`)
    }).pipe(
      Effect.tap(() => Effect.sync(() => rmSync(workDirectory, { recursive: true, force: true }))),
      Effect.tapError(() => Console.error(`drill: checkpoints and logs kept in ${workDirectory}`))
    )
    yield* Console.log(input.json ? JSON.stringify(drillJson(report), null, 2) : text(report).join("\n"))
    if (!report.identical) {
      return yield* new DrillFailed({ run: "interrupted", detail: "final weights differ from the uninterrupted run" })
    }
  }).pipe(Effect.provide(LocalRunner.layer))
