/**
 * What `frugal run` launches for a workload: its `run:` section (an argv, env, workdir, checkpoint
 * directory, processes per node), or, without a `run.command`, the reference trainer (`python -m
 * frugal_trainer`) sized from the workload's model and training sections. Relative paths in the spec resolve
 * against the directory of the workload file, so a spec means the same thing from any current directory.
 * With `run.processesPerNode` above 1 the launch also names how this machine starts torchrun (see Torchrun.ts).
 */
import { Effect } from "effect"
import { isAbsolute, join, resolve } from "node:path"
import { type InputIssue, InvalidInput, type Workload } from "@frugal/core"
import type { LaunchSpec } from "./LaunchSpec.ts"

/** Precisions the reference trainer implements (fp8 is priced by the planner but not trained here). */
const TRAINER_PRECISIONS: ReadonlyArray<string> = ["fp32", "tf32", "bf16", "fp16"]

export interface LaunchContext<E> {
  /** Directory of the workload file; relative `run` paths resolve here. */
  readonly workloadDirectory: string
  /** Checkpoint directory when the spec names none (per job, under `$FRUGAL_HOME/jobs/<id>`). */
  readonly defaultCheckpointDir: string
  /** Interpreter with PyTorch and the folder holding `frugal_trainer`; asked for only when the reference trainer runs. */
  readonly referenceTrainer: Effect.Effect<{ readonly python: string; readonly pythonPath: string }, E>
  /** The caller's PYTHONPATH, kept after the trainer's own folder. */
  readonly inheritedPythonPath?: string | undefined
}

const within = (base: string, path: string): string => (isAbsolute(path) ? path : resolve(base, path))

/** Whether the workload runs the reference trainer (no `run.command`). */
export const usesReferenceTrainer = (workload: Workload): boolean => workload.run?.command === undefined

/** Reference-trainer flags that reproduce the workload's model and training sections. */
export const referenceTrainerArgs = (
  workload: Workload,
  source: string
): Effect.Effect<ReadonlyArray<string>, InvalidInput> => {
  if (workload.kind !== "training") {
    return Effect.fail(
      new InvalidInput({
        source,
        issues: [{
          path: "run.command",
          expected: `a command to run: the reference trainer only trains, and this workload is ${workload.kind}`
        }]
      })
    )
  }
  const { model, training } = workload
  const issues: Array<InputIssue> = []
  if (!TRAINER_PRECISIONS.includes(model.precision)) {
    issues.push({
      path: "model.precision",
      expected: `one of ${TRAINER_PRECISIONS.join(", ")} for the reference trainer (or a run.command of your own)`,
      actual: model.precision
    })
  }
  if (issues.length > 0) return Effect.fail(new InvalidInput({ source, issues }))
  const args: Array<string> = [
    "--sequence-length",
    String(training.sequenceLength),
    "--micro-batch-size",
    String(training.microBatchSize),
    // The trainer turns tokens into steps of its global batch, which grows with the processes it runs on.
    "--max-tokens",
    String(Math.ceil(training.tokens)),
    "--precision",
    model.precision,
    training.activationCheckpointing ? "--activation-checkpointing" : "--no-activation-checkpointing",
    training.fusedAttention ? "--fused-attention" : "--no-fused-attention"
  ]
  if (model.layers !== undefined) args.push("--layers", String(model.layers))
  if (model.hiddenSize !== undefined) args.push("--hidden-size", String(model.hiddenSize))
  if (model.heads !== undefined) args.push("--heads", String(model.heads))
  if (model.vocabSize !== undefined) args.push("--vocab-size", String(model.vocabSize))
  // Without it the trainer runs DDP on several processes; the planner's own choice depends on the GPU.
  if (model.sharding !== undefined) args.push("--sharding", model.sharding)
  return Effect.succeed(args)
}

/** The launch spec for a workload, resolved to absolute paths. */
export const launchForWorkload = <E>(
  workload: Workload,
  source: string,
  context: LaunchContext<E>
): Effect.Effect<LaunchSpec, InvalidInput | E> =>
  Effect.gen(function*() {
    const run = workload.run
    const workdir = within(context.workloadDirectory, run?.workdir ?? ".")
    const checkpointDir = run?.checkpointDir === undefined
      ? context.defaultCheckpointDir
      : within(context.workloadDirectory, run.checkpointDir)
    const env = { ...run?.env }
    const command = run?.command
    const processes = run?.processesPerNode
    const perNode = processes === undefined ? {} : { processesPerNode: processes }
    // Several processes on this machine start through `python -m frugal_trainer.torchrun`, which needs the
    // Python that has torch and the trainer's folder on PYTHONPATH (in front of the command's own).
    const severalHere = processes !== undefined && processes > 1
    const viaTorchrun = (python: string) =>
      severalHere ? { torchrunProgram: [python, "-m", "frugal_trainer.torchrun"] as const } : {}
    const pythonPathAfter = (trainerRoot: string, rest: string | undefined): string =>
      rest === undefined || rest === "" ? trainerRoot : `${trainerRoot}:${rest}`
    if (command !== undefined) {
      if (!severalHere) return { argv: command, env, workdir, checkpointDir, ...perNode }
      const trainer = yield* context.referenceTrainer
      const pythonPath = pythonPathAfter(trainer.pythonPath, env["PYTHONPATH"] ?? context.inheritedPythonPath)
      return { argv: command, env: { ...env, PYTHONPATH: pythonPath }, workdir, checkpointDir, ...perNode, ...viaTorchrun(trainer.python) }
    }
    const args = yield* referenceTrainerArgs(workload, source)
    const trainer = yield* context.referenceTrainer
    const launch: LaunchSpec = {
      argv: [trainer.python, "-m", "frugal_trainer", ...args],
      env: { PYTHONPATH: pythonPathAfter(trainer.pythonPath, context.inheritedPythonPath), ...env },
      workdir,
      checkpointDir,
      ...perNode,
      ...viaTorchrun(trainer.python)
    }
    return launch
  })

/** Per-job directory for checkpoints and logs when the spec does not name one. */
export const jobCheckpointDir = (jobDirectory: string): string => join(jobDirectory, "checkpoints")
