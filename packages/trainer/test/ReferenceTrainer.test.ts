import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { decodeEventLine, findPython, referenceTrainerCommand, referenceTrainerFlags } from "../src/index.ts"

describe("ReferenceTrainer", () => {
  it("maps settings to kebab-case flags, booleans to --x / --no-x", () => {
    expect(
      referenceTrainerFlags({ hiddenSize: 64, precision: "bf16", compile: false, activationCheckpointing: true })
    ).toEqual(["--hidden-size", "64", "--precision", "bf16", "--no-compile", "--activation-checkpointing"])
  })

  it("launches a run that speaks the protocol and completes", async () => {
    const python = await Effect.runPromise(findPython())
    const dir = mkdtempSync(join(tmpdir(), "frugal-reference-trainer-"))
    try {
      const { argv, env } = referenceTrainerCommand(python, {
        layers: 1, hiddenSize: 16, heads: 2, vocabSize: 32, sequenceLength: 8, microBatchSize: 2,
        maxSteps: 3, device: "cpu", checkpointDir: dir, checkpointEverySteps: 2
      })
      const [command, ...args] = argv
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(command ?? "", args, { env: { ...process.env, ...env }, timeout: 120_000 }, (error, out, err) =>
          error === null ? resolve(out) : reject(new Error(`${error.message}\n${err}`))
        )
      )
      const events = stdout.split("\n").flatMap((line) => {
        const event = decodeEventLine(line)
        return event === null ? [] : [event]
      })
      // The step-2 checkpoint is written in the background, so its event may come before or after step 3.
      expect(events[0]?.event).toBe("started")
      expect(events.flatMap((e) => (e.event === "step" ? [e.step] : []))).toEqual([1, 2, 3])
      expect(events.flatMap((e) => (e.event === "checkpoint" ? [e.step] : []))).toEqual([2, 3])
      expect(events[events.length - 1]?.event).toBe("completed")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})
