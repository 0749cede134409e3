/**
 * A property of the job lease, through real `frugal` processes: several of them race to `run` and `--resume` the same
 * job id at random moments, and the one running it is stopped at random moments (Ctrl-C, or SIGKILL followed at once
 * by a `--resume` that finds its trainer orphaned). Whatever the schedule:
 * - exactly one trainer runs at a time (the trainer keeps a witness log and an exclusive lock file of its own);
 * - every other process is refused with exit 2 naming the holder (or the job not created yet), and starts nothing;
 * - every attempt in the ledger is billed for as long as its trainer really ran (its own log), within 1 s;
 * - the job ends completed.
 * SIGKILLs are aimed at attempts with at least 2.4 s of training left, so the orphan is still running when the next
 * supervisor takes over (an orphan that finishes unobserved is billed up to when it was last seen).
 */
import fc from "fast-check"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type FrugalProcess, type FrugalRun, runFrugal, startFrugal } from "./support/frugalCli.ts"
import { referenceTrainer } from "./support/slowJob.ts"

const dir = mkdtempSync(join(tmpdir(), "frugal-lease-race-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const STEPS = 120
const STEP_SECONDS = 0.04
const PRICE_PER_HOUR = 3600
const witnessTrainer = fileURLToPath(new URL("./fixtures/witness-trainer.py", import.meta.url))

let python = "python3"
beforeAll(async () => {
  python = (await referenceTrainer(join(dir, "probe"))).python
})

interface Contender {
  readonly delayMillis: number
  readonly mode: "run" | "resume"
}
interface Kill {
  readonly afterMillis: number
  readonly signal: "SIGINT" | "SIGKILL"
}
interface Plan {
  readonly contenders: ReadonlyArray<Contender>
  readonly kills: ReadonlyArray<Kill>
}

interface Witness {
  readonly kind: "start" | "end" | "overlap"
  readonly attempt: string
  readonly pid: number
  readonly t: number
}

interface Started {
  readonly process: FrugalProcess
  readonly mode: Contender["mode"]
  signal: Kill["signal"] | null
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Plays one schedule against a fresh ledger; returns every process's result and the witness log. */
const play = async (plan: Plan, iteration: number) => {
  const home = join(dir, `home-${iteration}`)
  const witness = join(dir, `witness-${iteration}.jsonl`)
  writeFileSync(witness, "")
  const workload = join(dir, `race-${iteration}.json`)
  writeFileSync(workload, JSON.stringify({
    name: "race",
    kind: "batch",
    batch: { gpuHours: 0.01, referenceGpu: "T4" },
    run: { command: [python, witnessTrainer], env: { WITNESS: witness, STEPS: String(STEPS), STEP_SECONDS: String(STEP_SECONDS) } }
  }))
  const env = { FRUGAL_HOME: home }
  const argsOf = (mode: Contender["mode"]) =>
    mode === "run" ? ["run", workload, "--job-id", "race", "--price-per-hour", String(PRICE_PER_HOUR)] : ["run", "--resume", "race"]
  const started: Array<Started> = []
  const start = (mode: Contender["mode"]) => started.push({ process: startFrugal(argsOf(mode), { env }), mode, signal: null })

  const launches = plan.contenders.map((c) => sleep(c.delayMillis).then(() => start(c.mode)))
  let launched = false
  void Promise.all(launches).then(() => (launched = true))
  const running = (s: Started) => s.process.child.exitCode === null && s.process.child.signalCode === null
  // The killer: each time a process starts an attempt, the next kill is aimed at it (a SIGKILL only at an attempt
  // with enough training left), after its delay.
  const kills = [...plan.kills]
  const aimed = new Set<string>()
  const killing: Array<Promise<void>> = []
  while (true) {
    for (const s of started) {
      for (const match of s.process.stdout().matchAll(/\[attempt (\d+)\] started .*?(?:fresh|resumed from step (\d+))/g)) {
        const key = `${s.process.child.pid}-${match[1]}`
        const kill = kills[0]
        if (aimed.has(key) || kill === undefined) continue
        aimed.add(key)
        if (kill.signal === "SIGKILL" && (STEPS - Number(match[2] ?? 0)) * STEP_SECONDS < 2.4) continue
        kills.shift()
        killing.push(sleep(kill.afterMillis).then(() => {
          if (!running(s)) return
          s.signal = kill.signal
          s.process.child.kill(kill.signal)
          if (kill.signal === "SIGKILL") start("resume")
        }))
      }
    }
    await sleep(25)
    if (launched && !started.some(running)) {
      await Promise.all(killing)
      if (!started.some(running)) break
    }
  }
  const results = await Promise.all(started.map(async (s) => ({ ...s, result: await s.process.done })))

  // Whatever the schedule left, the job is finished by running it once more (as often as it takes).
  const finals: Array<FrugalRun> = []
  for (let i = 0; i < 3; i++) {
    const final = await runFrugal(argsOf("run"), { env })
    finals.push(final)
    if (final.stdout.includes("job race: completed")) break
  }
  const witnessed: ReadonlyArray<Witness> = readFileSync(witness, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
  const status = await runFrugal(["status", "race", "--json"], { env })
  return { results, finals, witnessed, status }
}

const plans: fc.Arbitrary<Plan> = fc.record({
  contenders: fc.array(
    fc.record({ delayMillis: fc.integer({ min: 0, max: 2500 }), mode: fc.constantFrom<Contender["mode"]>("run", "run", "resume") }),
    { minLength: 3, maxLength: 5 }
  ),
  kills: fc.array(
    fc.record({ afterMillis: fc.integer({ min: 150, max: 1200 }), signal: fc.constantFrom<Kill["signal"]>("SIGINT", "SIGKILL") }),
    { maxLength: 2 }
  )
})

interface StatusJson {
  readonly job: { readonly status: string; readonly finalStep: number | null }
  readonly attempts: ReadonlyArray<{ readonly id: string; readonly durationSeconds: number; readonly costUsd: number; readonly exitReason: string | null }>
}

describe("racing processes on one job id", () => {
  it("run one trainer at a time, refuse the rest naming the holder, and bill every attempt for its real duration", async () => {
    let iteration = 0
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const { results, finals, witnessed, status } = await play(plan, iteration++)

        // One trainer at a time: no trainer found another's lock held, and their lives do not overlap.
        expect(witnessed.filter((w) => w.kind === "overlap")).toEqual([])
        const lives = witnessed.filter((w) => w.kind === "start").map((s) => {
          const end = witnessed.find((w) => w.kind === "end" && w.pid === s.pid)
          expect(end, `trainer ${s.attempt} (pid ${s.pid}) never ended`).toBeDefined()
          return { attempt: s.attempt, start: s.t, end: end?.t ?? Number.POSITIVE_INFINITY }
        }).sort((a, b) => a.start - b.start)
        for (let i = 1; i < lives.length; i++) expect(lives[i]?.start).toBeGreaterThanOrEqual(lives[i - 1]?.end ?? 0)

        // Every process either ran the job, was stopped by the schedule, or was refused having started nothing.
        for (const { result, signal, mode } of results) {
          if (signal === "SIGKILL") continue
          if (signal === "SIGINT") {
            expect(result.code, result.stderr).toBe(130)
            continue
          }
          expect([0, 2], `${mode}: ${result.stderr}`).toContain(result.code)
          if (result.code === 2) {
            expect(result.stderr).toMatch(/job race is already being run by pid \d+ on |no job race in the ledger/)
            expect(result.stdout).not.toContain("[attempt")
          }
        }
        expect(finals.at(-1)?.code, finals.at(-1)?.stderr).toBe(0)

        // The ledger bills each attempt for as long as its trainer lived.
        expect(status.code, status.stderr).toBe(0)
        const report: StatusJson = JSON.parse(status.stdout)
        expect(report.job.status).toBe("completed")
        expect(report.job.finalStep).toBe(STEPS)
        for (const attempt of report.attempts) {
          const life = lives.find((l) => l.attempt === attempt.id)
          const realSeconds = life === undefined ? 0 : life.end - life.start
          expect(Math.abs(attempt.durationSeconds - realSeconds), `attempt ${attempt.id} (${attempt.exitReason}): ${JSON.stringify({ attempts: report.attempts, lives, outputs: results.map((r) => r.result.stdout) })}`).toBeLessThanOrEqual(1)
          expect(attempt.costUsd).toBeCloseTo(attempt.durationSeconds * PRICE_PER_HOUR / 3600, 6)
        }
        expect(lives.every((l) => report.attempts.some((a) => a.id === l.attempt))).toBe(true)
      }),
      { numRuns: 3, endOnFailure: true }
    )
  }, 600_000)
})
