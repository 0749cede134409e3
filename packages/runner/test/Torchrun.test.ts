import { describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import type { InterruptedEvent } from "@frugal/trainer"
import {
  type AttemptExit,
  type LaunchSpec,
  localPlacement,
  processesPerNode,
  runsUnderTorchrun,
  singleNodeArgv,
  torchrunArgv,
  torchrunAttemptExit
} from "../src/index.ts"

const argv = ["/usr/bin/python3", "-m", "frugal_trainer", "--max-steps", "10"] as const

/** A python whose PyTorch has torchrun's argument parser (Debian's python3-torch here); null where there is none. */
const torchPython = ["/usr/bin/python3", "python3"].find(
  (python) => spawnSync(python, ["-c", "import torch.distributed.run"], { encoding: "utf8" }).status === 0
) ?? null

/** The flags as the installed torchrun's own parser reads them. */
const parsedByTorchrun = (python: string, line: ReadonlyArray<string>) => {
  const parse = "import json, sys; from torch.distributed.run import parse_args; a = parse_args(sys.argv[1:]); " +
    "print(json.dumps([a.standalone, a.nnodes, a.nproc_per_node, a.rdzv_backend, a.rdzv_endpoint, a.rdzv_id, " +
    "a.no_python, a.training_script, a.training_script_args]))"
  const result = spawnSync(python, ["-c", parse, ...line], { encoding: "utf8" })
  expect(result.status, result.stderr).toBe(0)
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "null")
}

describe("torchrun", () => {
  it("starts one node standalone with underscored flags and the argv untouched after --no_python", () => {
    expect(torchrunArgv({ argv, processesPerNode: 2, rendezvous: { _tag: "Standalone" } })).toEqual([
      "torchrun", "--standalone", "--nnodes", "1", "--nproc_per_node", "2", "--no_python", ...argv
    ])
  })

  it("meets several nodes at a c10d rendezvous named by the attempt", () => {
    const line = torchrunArgv({
      argv,
      processesPerNode: 8,
      rendezvous: { _tag: "C10d", nodes: 4, endpoint: "10.0.0.5:29400", id: "attempt-7" },
      program: ["python3", "-m", "torch.distributed.run"]
    })
    expect(line).toEqual([
      "python3", "-m", "torch.distributed.run", "--nnodes", "4", "--rdzv_backend", "c10d", "--rdzv_endpoint",
      "10.0.0.5:29400", "--rdzv_id", "attempt-7", "--nproc_per_node", "8", "--no_python", ...argv
    ])
  })

  it.skipIf(torchPython === null)("is read by the installed torchrun's own parser as meant", () => {
    const python = torchPython ?? "python3"
    const [, ...flags] = torchrunArgv({ argv, processesPerNode: 2, rendezvous: { _tag: "Standalone" } })
    expect(parsedByTorchrun(python, flags)).toEqual([
      true, "1", "2", "static", "", "none", true, argv[0], argv.slice(1)
    ])
    const [, ...multi] = torchrunArgv({
      argv,
      processesPerNode: 8,
      rendezvous: { _tag: "C10d", nodes: 2, endpoint: "node0:29400", id: "a-1" }
    })
    expect(parsedByTorchrun(python, multi)).toEqual([
      false, "2", "8", "c10d", "node0:29400", "a-1", true, argv[0], argv.slice(1)
    ])
  })

  it("runs run.processesPerNode processes when set, else one per GPU, else one", () => {
    expect(processesPerNode(8, undefined)).toBe(8)
    expect(processesPerNode(8, 2)).toBe(2)
    expect(processesPerNode(0, undefined)).toBe(1)
    expect(processesPerNode(0, 4)).toBe(4)
    expect(processesPerNode(1, undefined)).toBe(1)
  })

  it("wraps a local launch in torchrun only when it has more than one process", () => {
    const launch: LaunchSpec = { argv, env: {}, workdir: "/w", checkpointDir: "/c" }
    const local = localPlacement()
    expect(singleNodeArgv(launch, local)).toEqual(argv)
    expect(runsUnderTorchrun(launch, local)).toBe(false)
    expect(singleNodeArgv({ ...launch, processesPerNode: 1 }, { acceleratorsPerInstance: 8 })).toEqual(argv)
    const two = { ...launch, processesPerNode: 2, torchrunProgram: ["/usr/bin/python3", "-m", "frugal_trainer.torchrun"] as const }
    expect(runsUnderTorchrun(two, local)).toBe(true)
    expect(singleNodeArgv(two, local)).toEqual([
      "/usr/bin/python3", "-m", "frugal_trainer.torchrun", "--standalone", "--nnodes", "1", "--nproc_per_node", "2",
      "--no_python", ...argv
    ])
    expect(singleNodeArgv(launch, { acceleratorsPerInstance: 4 })[0]).toBe("torchrun")
    expect(runsUnderTorchrun(launch, { instanceCount: 2, acceleratorsPerInstance: 0 })).toBe(true)
  })

  it("reads torchrun's exit 1 after a checkpointed interruption as resumable, and nothing else", () => {
    const interrupted = (checkpointStep: number | null): InterruptedEvent => ({
      event: "interrupted",
      time: "2026-11-23T07:00:00Z",
      step: 12,
      reason: "SIGTERM",
      checkpointStep
    })
    const crashed: AttemptExit = { _tag: "Crashed", code: 1, signal: null }
    expect(torchrunAttemptExit(crashed, interrupted(12))).toEqual({ _tag: "Interrupted", resumable: true })
    expect(torchrunAttemptExit(crashed, interrupted(null))).toEqual(crashed)
    expect(torchrunAttemptExit(crashed, null)).toEqual(crashed)
    const killed: AttemptExit = { _tag: "Crashed", code: null, signal: "SIGKILL" }
    expect(torchrunAttemptExit(killed, interrupted(12))).toEqual(killed)
    expect(torchrunAttemptExit({ _tag: "Completed" }, null)).toEqual({ _tag: "Completed" })
  })
})
