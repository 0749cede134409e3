/**
 * torchrun, the one way every engine starts a job of several processes: how many per node, the argv that
 * starts them, and what their end means. Pure.
 *
 * The flags are spelled with underscores (`--nproc_per_node`): every PyTorch accepts those, while the dashed
 * spellings exist only from 2.0 (1.13 rejects them). `--no_python` runs the argv as given, with its own python.
 */
import type { InterruptedEvent } from "@frugal/trainer"
import type { AttemptExit } from "./AttemptExit.ts"
import type { LaunchSpec } from "./LaunchSpec.ts"
import type { Placement } from "./Placement.ts"

/** How the nodes of one attempt find each other. */
export type TorchrunRendezvous =
  /** One node: torchrun keeps a private rendezvous on a free local port. */
  | { readonly _tag: "Standalone" }
  /** Several nodes meeting at `endpoint` (`host:port`) under `id` (unique per attempt, so a relaunch never joins an old one). */
  | { readonly _tag: "C10d"; readonly nodes: number; readonly endpoint: string; readonly id: string }

export interface TorchrunLaunch {
  /** The command each process runs. */
  readonly argv: ReadonlyArray<string>
  readonly processesPerNode: number
  readonly rendezvous: TorchrunRendezvous
  /** What starts torchrun (default `torchrun`, looked up on PATH). */
  readonly program?: Argv
}

/** An argv: a program and its arguments. */
export type Argv = readonly [string, ...Array<string>]

export const standalone: TorchrunRendezvous = { _tag: "Standalone" }

/** The torchrun argv, e.g. `torchrun --standalone --nnodes 1 --nproc_per_node 2 --no_python python3 train.py`. */
export const torchrunArgv = (launch: TorchrunLaunch): Argv => {
  const { rendezvous } = launch
  const topology = rendezvous._tag === "Standalone"
    ? ["--standalone", "--nnodes", "1"]
    : [
      "--nnodes",
      String(rendezvous.nodes),
      "--rdzv_backend",
      "c10d",
      "--rdzv_endpoint",
      rendezvous.endpoint,
      "--rdzv_id",
      rendezvous.id
    ]
  const [program, ...programArgs] = launch.program ?? ["torchrun"]
  return [
    program,
    ...programArgs,
    ...topology,
    "--nproc_per_node",
    String(launch.processesPerNode),
    "--no_python",
    ...launch.argv
  ]
}

/** Processes per node: the workload's `run.processesPerNode` when set, else one per GPU, else one. */
export const processesPerNode = (gpusPerNode: number, explicit: number | undefined): number =>
  explicit ?? (gpusPerNode >= 1 ? Math.floor(gpusPerNode) : 1)

/** Whether an attempt at this placement runs under torchrun: more than one process in all. */
export const runsUnderTorchrun = (
  launch: Pick<LaunchSpec, "processesPerNode">,
  placement: Pick<Placement, "instanceCount" | "acceleratorsPerInstance">
): boolean => placement.instanceCount * processesPerNode(placement.acceleratorsPerInstance, launch.processesPerNode) > 1

/**
 * The argv an attempt on one node runs: the launch's own argv for a single process, else torchrun around it
 * (standalone rendezvous). What `frugal run` starts locally, and what `--dry-run` shows for a local placement.
 */
export const singleNodeArgv = (
  launch: Pick<LaunchSpec, "argv" | "processesPerNode" | "torchrunProgram">,
  placement: Pick<Placement, "acceleratorsPerInstance">
): Argv => {
  const processes = processesPerNode(placement.acceleratorsPerInstance, launch.processesPerNode)
  if (processes <= 1) return launch.argv
  return torchrunArgv({
    argv: launch.argv,
    processesPerNode: processes,
    rendezvous: standalone,
    ...(launch.torchrunProgram === undefined ? {} : { program: launch.torchrunProgram })
  })
}

/**
 * What a torchrun attempt's end means. torchrun exits 1 when any rank fails, so a coordinated stop (every rank
 * exited 75 after one checkpoint) looks like a crash from outside; rank 0's `interrupted` event with the step of
 * a durable checkpoint says it was not. `frugal_trainer.torchrun` exits 75 itself in that case.
 */
export const torchrunAttemptExit = (exit: AttemptExit, interrupted: InterruptedEvent | null): AttemptExit =>
  exit._tag === "Crashed" && exit.signal === null && interrupted !== null && interrupted.checkpointStep !== null
    ? { _tag: "Interrupted", resumable: true }
    : exit
