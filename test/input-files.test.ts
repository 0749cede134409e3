/**
 * Every input file goes through one bounded reader (`@frugal/core/io`): a FIFO, a device or a directory where a
 * file is expected is refused at once with exit 2 naming the flag and the path, and a file over its kind's cap is
 * refused before it is read. Before, a FIFO made each of these commands wait for a writer forever, and
 * `/dev/zero` as `--catalog` read about 512 MB before failing. Through the real `frugal` process.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { example, runFrugal, STACK_FRAME } from "./support/frugalCli.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-input-files-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fifo = (name: string): string => {
  const path = join(dir, name)
  execFileSync("mkfifo", [path])
  return path
}
const env = { FRUGAL_HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "config"), FRUGAL_PRICING_CONFIG: "" }
const ceDir = example("waste/cost-explorer")
const simulateFlags = ["--compute-hours", "10", "--deadline-hours", "20", "--restart-hours", "0.1", "--starts", "2"]

const expectRefused = (run: { code: number | null; stdout: string; stderr: string }, mentions: ReadonlyArray<string>) => {
  expect(run.stderr).not.toMatch(STACK_FRAME)
  for (const mention of mentions) expect(run.stderr).toContain(mention)
  expect(run.stdout).toBe("")
  expect(run.code).toBe(2)
}

describe.concurrent("a FIFO where an input file belongs is refused at once with exit 2, naming the flag and the path", () => {
  it("--trace", async () => {
    const path = fifo("trace.json")
    expectRefused(await runFrugal(["simulate", "--trace", path, ...simulateFlags], { env }), ["--trace", path, "a FIFO"])
  })

  it("a FIFO among the traces of a --trace directory", async () => {
    const traces = join(dir, "traces")
    mkdirSync(traces)
    writeFileSync(join(traces, "a.csv"), "timestamp,available\n0,1\n3600,1\n")
    const path = join(traces, "b.json")
    execFileSync("mkfifo", [path])
    expectRefused(await runFrugal(["simulate", "--trace", traces, ...simulateFlags], { env }), ["--trace", path, "a FIFO"])
  })

  it("--ce-file, and a FIFO inside a --ce-file directory", async () => {
    const path = fifo("costs.json")
    const inDir = join(dir, "ce")
    mkdirSync(inDir)
    writeFileSync(join(inDir, "a.json"), JSON.stringify({ GroupDefinitions: [], ResultsByTime: [] }))
    const inner = join(inDir, "b.json")
    execFileSync("mkfifo", [inner])
    const [direct, nested] = await Promise.all([
      runFrugal(["report", "--ce-file", path], { env }),
      runFrugal(["report", "--ce-file", inDir], { env })
    ])
    expectRefused(direct, ["--ce-file", path, "expected a regular file with the Cost Explorer JSON, got a FIFO (named pipe)"])
    expectRefused(nested, ["--ce-file", inner, "a FIFO"])
  })

  it("--utilization-file", async () => {
    const path = fifo("gpus.json")
    expectRefused(await runFrugal(["report", "--ce-file", ceDir, "--utilization-file", path], { env }), ["--utilization-file", path, "a FIFO"])
  })

  it("--catalog, and /dev/zero as --catalog", async () => {
    const path = fifo("catalog.csv")
    const [pipe, zero] = await Promise.all([
      runFrugal(["plan", example("llama-7b-finetune.yaml"), "--catalog", path], { env }),
      runFrugal(["gpus", "--catalog", "/dev/zero"], { env })
    ])
    expectRefused(pipe, ["--catalog", path, "a FIFO"])
    expectRefused(zero, ["--catalog", "/dev/zero", "a character device"])
  })

  it("--pricing-config, FRUGAL_PRICING_CONFIG and the default pricing.yaml", async () => {
    const path = fifo("pricing.yaml")
    const xdg = join(dir, "xdg-with-fifo")
    mkdirSync(join(xdg, "frugal"), { recursive: true })
    const defaultPath = join(xdg, "frugal", "pricing.yaml")
    execFileSync("mkfifo", [defaultPath])
    const [flag, variable, fallback] = await Promise.all([
      runFrugal(["gpus", "--pricing-config", path], { env }),
      runFrugal(["gpus"], { env: { ...env, FRUGAL_PRICING_CONFIG: path } }),
      runFrugal(["gpus"], { env: { ...env, XDG_CONFIG_HOME: xdg } })
    ])
    expectRefused(flag, ["--pricing-config", path, "a FIFO"])
    expectRefused(variable, ["FRUGAL_PRICING_CONFIG", path, "a FIFO"])
    expectRefused(fallback, ["pricing config", defaultPath, "a FIFO"])
  })

  it("a workload FILE of plan, estimate and run --dry-run", async () => {
    const path = fifo("workload.yaml")
    const runs = await Promise.all([
      runFrugal(["plan", path], { env }),
      runFrugal(["estimate", path], { env }),
      runFrugal(["run", path, "--dry-run"], { env })
    ])
    for (const run of runs) expectRefused(run, [path, "a FIFO", "use - to read standard input"])
  })
})

describe.concurrent("an input file over its kind's cap is refused before it is read", () => {
  it("a 300 MiB --utilization-file (cap 128 MiB) and a 2 MiB --pricing-config (cap 1 MiB)", async () => {
    const big = join(dir, "big-utilization.json")
    writeFileSync(big, "")
    truncateSync(big, 300 * 1024 * 1024) // sparse: costs no disk
    const config = join(dir, "big-pricing.yaml")
    writeFileSync(config, "")
    truncateSync(config, 2 * 1024 * 1024)
    const [utilization, pricing] = await Promise.all([
      runFrugal(["report", "--ce-file", ceDir, "--utilization-file", big], { env }),
      runFrugal(["gpus", "--pricing-config", config], { env })
    ])
    expectRefused(utilization, ["--utilization-file", "expected a file of at most 128 MiB with the CloudWatch GetMetricData JSON, got 300 MiB"])
    expectRefused(pricing, ["--pricing-config", "expected a file of at most 1 MiB with the pricing config (YAML or JSON), got 2 MiB"])
  })
})
