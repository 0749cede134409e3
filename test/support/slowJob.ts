/**
 * Workloads of the reference trainer (the tiny GPT of examples/run/tiny-train.yaml) that run slowly enough, a tenth
 * of a second per step, for a test to act while a job runs: start a second process, kill one, corrupt checkpoints.
 * The Python that has torch and the trainer's PYTHONPATH come from `frugal run --dry-run --json`, as a user would
 * find them.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { example, type FrugalProcess, runFrugal } from "./frugalCli.ts"

export interface TrainerLaunch {
  readonly python: string
  readonly pythonPath: string
}

export const referenceTrainer = async (home: string): Promise<TrainerLaunch> => {
  const dryRun = await runFrugal(["run", example("run/tiny-train.yaml"), "--dry-run", "--json"], { env: { FRUGAL_HOME: home } })
  if (dryRun.code !== 0) throw new Error(`frugal run --dry-run failed: ${dryRun.stderr}`)
  const launch: { readonly argv: ReadonlyArray<string>; readonly env: Record<string, string> } = JSON.parse(dryRun.stdout).job.launch
  return { python: launch.argv[0] ?? "python3", pythonPath: launch.env["PYTHONPATH"] ?? "" }
}

export interface SlowJobOptions {
  readonly name?: string
  readonly hiddenSize?: number
  readonly steps?: number
  readonly stepDelaySeconds?: number
  /** Where the checkpoints go (default: the job's directory under FRUGAL_HOME). */
  readonly checkpointDir?: string
}

/** Writes a workload file (JSON) for the slow tiny trainer and returns its path. */
export const writeSlowJob = (dir: string, file: string, trainer: TrainerLaunch, options: SlowJobOptions = {}): string => {
  const hidden = options.hiddenSize ?? 64
  const steps = options.steps ?? 40
  const path = join(dir, file)
  writeFileSync(path, JSON.stringify({
    name: options.name ?? "slow-tiny",
    kind: "training",
    model: { parameters: "120K", precision: "fp32", layers: 2, hiddenSize: hidden, heads: 4, vocabSize: 256 },
    training: { tokens: steps * 128, sequenceLength: 32, microBatchSize: 4 },
    run: {
      command: [
        trainer.python, "-m", "frugal_trainer", "--layers", "2", "--hidden-size", String(hidden), "--heads", "4",
        "--vocab-size", "256", "--sequence-length", "32", "--micro-batch-size", "4", "--max-steps", String(steps),
        "--precision", "fp32", "--device", "cpu", "--checkpoint-every-steps", "5", "--no-async-checkpoints",
        "--step-delay-seconds", String(options.stepDelaySeconds ?? 0.1)
      ],
      env: { PYTHONPATH: trainer.pythonPath, OMP_NUM_THREADS: "1" },
      ...(options.checkpointDir === undefined ? {} : { checkpointDir: options.checkpointDir })
    }
  }, null, 2))
  return path
}

/** Resolves with the first match of `pattern` in what the process printed (rejects if it ends first, or times out). */
export const waitForOutput = async (running: FrugalProcess, pattern: RegExp, timeoutMillis = 60_000): Promise<RegExpExecArray> => {
  const deadline = performance.now() + timeoutMillis
  let ended = false
  void running.done.then(() => (ended = true))
  while (performance.now() < deadline) {
    const match = pattern.exec(running.stdout())
    if (match !== null) return match
    if (ended) throw new Error(`exited before ${String(pattern)}; stdout:\n${running.stdout()}\nstderr:\n${running.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`no ${String(pattern)} within ${timeoutMillis} ms; stdout so far:\n${running.stdout()}`)
}

/** Whether a process with this id exists. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
