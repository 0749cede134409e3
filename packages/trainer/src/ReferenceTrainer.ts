/**
 * How to launch the reference trainer (`python3 -m frugal_trainer`) for a runner: the argv (never a
 * shell string) and the environment that makes the `frugal_trainer` package importable.
 */
import { trainerPythonRoot, type PythonWithTorch } from "./FindPython.ts"

/** Settings of the reference trainer; each maps to the flag of the same name in kebab-case. */
export interface ReferenceTrainerSettings {
  readonly layers?: number
  readonly hiddenSize?: number
  readonly heads?: number
  readonly vocabSize?: number
  readonly sequenceLength?: number
  readonly microBatchSize?: number
  readonly gradientAccumulationSteps?: number
  /** Sequences per optimizer step over every process; sets the accumulation steps. */
  readonly globalBatchSize?: number
  readonly maxSteps?: number
  /** Tokens of the whole run over every process; sets maxSteps from the global batch. */
  readonly maxTokens?: number
  /** Parallelism on several processes: `none` (DDP), `zero1`, `zero2`, `fsdp` (see docs/trainer.md). */
  readonly sharding?: "none" | "zero1" | "zero2" | "fsdp"
  readonly seed?: number
  readonly precision?: "fp32" | "tf32" | "bf16" | "fp16"
  /** `auto` (CUDA when present), `cpu`, `cuda` or `cuda:N`. */
  readonly device?: string
  readonly compile?: boolean
  readonly activationCheckpointing?: boolean
  readonly dropout?: number
  readonly learningRate?: number
  readonly checkpointDir?: string
  readonly checkpointEverySteps?: number
  readonly checkpointEverySeconds?: number
  readonly keepCheckpoints?: number
  readonly logEvery?: number
  /** Slows each step down, so that drills on tiny CPU models can land interruptions mid-run. */
  readonly stepDelaySeconds?: number
  readonly spotNoticeFile?: string
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** The flags for `settings`, in a stable order (booleans as `--x` / `--no-x`). */
export const referenceTrainerFlags = (settings: ReferenceTrainerSettings): ReadonlyArray<string> =>
  Object.entries(settings).flatMap(([key, value]): ReadonlyArray<string> => {
    if (value === undefined) return []
    if (typeof value === "boolean") return [value ? `--${kebab(key)}` : `--no-${kebab(key)}`]
    return [`--${kebab(key)}`, String(value)]
  })

/** argv and environment additions to run the reference trainer with `python`. */
export const referenceTrainerCommand = (
  python: Pick<PythonWithTorch, "executable">,
  settings: ReferenceTrainerSettings
): { readonly argv: ReadonlyArray<string>; readonly env: Readonly<Record<string, string>> } => ({
  argv: [python.executable, "-m", "frugal_trainer", ...referenceTrainerFlags(settings)],
  env: { PYTHONPATH: trainerPythonRoot, PYTHONUNBUFFERED: "1" }
})
