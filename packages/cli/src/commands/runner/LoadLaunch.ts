/**
 * Shared by `run` and `drill`: a workload file → the one workload in it → what to launch. Without a
 * `run.command` the reference trainer runs, on the first Python found that can import torch.
 */
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import { dirname, resolve } from "node:path"
import { InvalidInput, type Workload } from "@frugal/core"
import { type LaunchSpec, launchForWorkload } from "@frugal/runner"
import { findPython, type PythonNotFound, trainerPythonRoot } from "@frugal/trainer"
import { readWorkloadFile } from "../../WorkloadInput.ts"

/** The single workload of a file (a fleet is refused: one job runs one workload). */
export const readSingleWorkload = (file: string): Effect.Effect<Workload, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(readWorkloadFile(file), (decoded) =>
    decoded.kind === "single"
      ? Effect.succeed(decoded.workload)
      : Effect.fail(
        new InvalidInput({
          source: file,
          issues: [{ path: "workloads", expected: "a single workload to run (run each workload of a fleet on its own)", actual: `${decoded.workloads.length} workloads` }]
        })
      ))

export const launchFor = (
  file: string,
  workload: Workload,
  defaultCheckpointDir: string
): Effect.Effect<LaunchSpec, InvalidInput | PythonNotFound> =>
  launchForWorkload(workload, file, {
    workloadDirectory: file === "-" ? process.cwd() : dirname(resolve(file)),
    defaultCheckpointDir,
    referenceTrainer: Effect.map(findPython(process.env), (python) => ({
      python: python.executable,
      pythonPath: trainerPythonRoot
    })),
    inheritedPythonPath: process.env["PYTHONPATH"]
  })
