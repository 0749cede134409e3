/**
 * Finds a Python interpreter that can import PyTorch, to run the reference trainer (`-m frugal_trainer`).
 *
 * A machine often has several `python3`s (pyenv, conda, a virtualenv, the system's) and only one of them
 * has torch, so each candidate is asked, in order: `FRUGAL_PYTHON` (an explicit choice: used or reported,
 * never skipped), then `python3` on `PATH`, then the system's `/usr/bin/python3`.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, Schema } from "effect"

/** Where a candidate came from. */
export type PythonSource = "FRUGAL_PYTHON" | "PATH" | "system"

export interface PythonWithTorch {
  /** The interpreter's absolute path (`sys.executable`). */
  readonly executable: string
  readonly source: PythonSource
  readonly pythonVersion: string
  readonly torchVersion: string
  readonly cudaAvailable: boolean
}

export const PythonProbeFailure = Schema.Struct({
  /** The command that was tried, e.g. `python3` or `/usr/bin/python3`. */
  command: Schema.String,
  source: Schema.Literals(["FRUGAL_PYTHON", "PATH", "system"]),
  /** Why it cannot run the trainer, e.g. `No module named 'torch'`. */
  problem: Schema.String
})
export type PythonProbeFailure = typeof PythonProbeFailure.Type

/** No candidate Python could import torch; the message says what was tried and how to fix it. */
export class PythonNotFound extends Schema.TaggedError<PythonNotFound>()("PythonNotFound", {
  tried: Schema.Array(PythonProbeFailure)
}) {
  override get message(): string {
    const tried = this.tried.map((t) => `  ${t.command} (${t.source}): ${t.problem}`).join("\n")
    return (
      "No Python with PyTorch was found to run the trainer. Tried:\n" +
      tried +
      "\nInstall PyTorch for one of them (Debian/Ubuntu: `apt-get install python3-torch`; " +
      "elsewhere: `python3 -m pip install torch`), or point FRUGAL_PYTHON at an interpreter that has it."
    )
  }
}

/** The folder that holds the `frugal_trainer` Python package: put it on `PYTHONPATH` to run `-m frugal_trainer`. */
export const trainerPythonRoot: string = fileURLToPath(new URL("..", import.meta.url))

/** The candidates, in the order they are tried, for an environment. */
export const pythonCandidates = (
  env: Readonly<Record<string, string | undefined>>
): ReadonlyArray<{ readonly command: string; readonly source: PythonSource }> => {
  const explicit = env["FRUGAL_PYTHON"]
  if (explicit !== undefined && explicit !== "") return [{ command: explicit, source: "FRUGAL_PYTHON" }]
  return [
    { command: "python3", source: "PATH" },
    { command: "/usr/bin/python3", source: "system" }
  ]
}

const ProbeReport = Schema.Struct({
  executable: Schema.String,
  python: Schema.String,
  torch: Schema.String,
  cuda: Schema.Boolean
})
const decodeProbeReport = Schema.decodeUnknownOption(Schema.fromJsonString(ProbeReport))

// Prints one JSON line; importing torch is the real test (a broken install fails here, not mid-run).
const probeScript =
  "import json, sys, platform\n" +
  "import torch\n" +
  "print(json.dumps({'executable': sys.executable, 'python': platform.python_version(), " +
  "'torch': str(torch.__version__), 'cuda': bool(torch.cuda.is_available())}))\n"

const probe = (
  command: string,
  source: PythonSource,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<PythonWithTorch, PythonProbeFailure> =>
  Effect.callback<PythonWithTorch, PythonProbeFailure>((resume, signal) => {
    execFile(
      command,
      ["-c", probeScript],
      { env: { ...env }, timeout: 120_000, signal, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error !== null) {
          const lastLine = stderr.trim().split("\n").pop() ?? ""
          const problem = lastLine !== "" ? lastLine : error.message
          resume(Effect.fail({ command, source, problem }))
          return
        }
        const lines = stdout.trim().split("\n")
        const report = decodeProbeReport(lines[lines.length - 1] ?? "")
        if (report._tag === "None") {
          resume(Effect.fail({ command, source, problem: `unexpected output: ${stdout.slice(0, 200)}` }))
          return
        }
        const r = report.value
        resume(
          Effect.succeed({
            executable: r.executable,
            source,
            pythonVersion: r.python,
            torchVersion: r.torch,
            cudaAvailable: r.cuda
          })
        )
      }
    )
  })

/**
 * Interpreters that imported torch, by command and the environment that finds them: a long-running process (`frugal
 * server` prepares a job at each submission and admission) asks once, not once a job; importing torch takes seconds.
 * Failures are not kept, so installing torch is noticed at the next call.
 */
const found = new Map<string, PythonWithTorch>()

const probeKey = (command: string, env: Readonly<Record<string, string | undefined>>): string =>
  [command, env["PATH"], env["PYTHONPATH"], env["VIRTUAL_ENV"], env["CONDA_PREFIX"], env["PYENV_VERSION"]].join("\u0000")

const probeOnce = (command: string, source: PythonSource, env: Readonly<Record<string, string | undefined>>): Effect.Effect<PythonWithTorch, PythonProbeFailure> =>
  Effect.suspend(() => {
    const key = probeKey(command, env)
    const known = found.get(key)
    return known !== undefined ? Effect.succeed(known) : Effect.tap(probe(command, source, env), (python) => Effect.sync(() => found.set(key, python)))
  })

/** The first candidate Python that imports torch, or {@link PythonNotFound} listing why each failed. */
export const findPython = Effect.fn("FindPython.findPython")(function* (
  env: Readonly<Record<string, string | undefined>> = process.env
) {
  const tried: Array<PythonProbeFailure> = []
  for (const candidate of pythonCandidates(env)) {
    const found = yield* probeOnce(candidate.command, candidate.source, env).pipe(
      Effect.map((python) => ({ _tag: "Found" as const, python })),
      Effect.catch((failure: PythonProbeFailure) => Effect.succeed({ _tag: "Failed" as const, failure }))
    )
    if (found._tag === "Found") return found.python
    tried.push(found.failure)
  }
  return yield* new PythonNotFound({ tried })
})
