/**
 * Shared by `run` and `drill`: a workload (spec text or object) → the one workload in it → what to launch. Without
 * a `run.command` the reference trainer runs, on the first Python found that can import torch.
 */
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { InvalidInput, type Workload } from "@frugal/core"
import { type LaunchSpec, launchForWorkload } from "@frugal/runner"
import { findPython, type PythonNotFound, trainerPythonRoot } from "@frugal/trainer"
import { decodeWorkloadInput, type WorkloadInput } from "../WorkloadInput.ts"

/** The single workload of an input (a fleet is refused: one job runs one workload). */
export const singleWorkload = (input: WorkloadInput, source = "workload"): Effect.Effect<Workload, InvalidInput> =>
  Effect.flatMap(decodeWorkloadInput(input, source), (decoded) =>
    decoded.kind === "single"
      ? Effect.succeed(decoded.workload)
      : Effect.fail(
        new InvalidInput({
          source,
          issues: [{ path: "workloads", expected: "a single workload to run (run each workload of a fleet on its own)", actual: `${decoded.workloads.length} workloads` }]
        })
      ))

/**
 * The folder holding the `frugal_trainer` Python package. `trainerPythonRoot` is right when the CLI runs
 * from source; in the bundle (`packages/cli/dist/frugal.js`) every module's `import.meta.url` is the
 * bundle's, so the trainer is found through the package resolver (or next to the CLI package) instead.
 */
const locateTrainerRoot = (): string => {
  const candidates = [trainerPythonRoot]
  try {
    candidates.push(fileURLToPath(new URL("..", import.meta.resolve("@frugal/trainer"))))
  } catch {
    // not resolvable from here: the other candidates remain
  }
  candidates.push(fileURLToPath(new URL("../../trainer/", import.meta.url)))
  return candidates.find((root) => existsSync(join(root, "frugal_trainer", "__main__.py"))) ?? trainerPythonRoot
}

/**
 * What to launch; relative `run` paths resolve next to `source` (a file path; `-` or none: the current directory).
 * `env` is where the Python is looked for (`FRUGAL_PYTHON`, `PATH`) and the `PYTHONPATH` the trainer inherits.
 */
export const launchFor = (
  source: string | undefined,
  workload: Workload,
  defaultCheckpointDir: string,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<LaunchSpec, InvalidInput | PythonNotFound> =>
  launchForWorkload(workload, source ?? "workload", {
    workloadDirectory: source === undefined || source === "-" ? process.cwd() : dirname(resolve(source)),
    defaultCheckpointDir,
    referenceTrainer: Effect.map(findPython(env), (python) => ({
      python: python.executable,
      pythonPath: locateTrainerRoot()
    })),
    inheritedPythonPath: env["PYTHONPATH"]
  })
