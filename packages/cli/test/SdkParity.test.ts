/**
 * Every `frugal` command has its counterpart in the SDK (ARCHITECTURE.md: "the SDK … everything the CLI can do"):
 * this walks the command tree the CLI runs (`src/Commands.ts`), and for each command finds the `Frugal` method that
 * does its work and, for each of its flags and arguments, the SDK option that takes that input. A new command or flag
 * without a counterpart fails here, as does a counterpart that names an option the SDK does not have: the option
 * names are checked by the compiler through the typed examples below.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as CliOutput from "effect/cli/CliOutput"
import * as Command from "effect/cli/Command"
import type * as HelpDoc from "effect/cli/HelpDoc"
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { Frugal, type FrugalOptions } from "@frugal/sdk"
import { frugal } from "../src/Commands.ts"

type Instance = ReturnType<typeof Frugal.make>
type OptionsOf<F> = F extends (a: never, b?: infer O) => unknown ? NonNullable<O> : F extends (a?: infer O) => unknown ? NonNullable<O> : never

/** One call per method with every option it takes: the compiler checks each name, the test reads them. */
const OPTIONS = {
  make: { catalog: "embedded", pricingConfig: "pricing.yaml", env: {}, calibration: true } satisfies FrugalOptions,
  plan: { top: 3, infra: "infra.yaml", calibration: false, source: "job.yaml" } satisfies OptionsOf<Instance["plan"]>,
  estimate: { calibration: false, source: "job.yaml" } satisfies OptionsOf<Instance["estimate"]>,
  gpus: { region: "us-east-1", gpu: "H100" } satisfies OptionsOf<Instance["gpus"]>,
  refreshPrices: { regions: "us-east-1", kinds: "spot", concurrency: 2, spotHistoryHours: 24 } satisfies OptionsOf<Instance["refreshPrices"]>,
  run: {
    source: "job.yaml",
    jobId: "job-1",
    runner: "local",
    policy: "frugal",
    placementFromPlan: true,
    pricePerHourUsd: 1,
    infra: "infra.yaml",
    fromScratch: true,
    dryRun: true
  } satisfies OptionsOf<Instance["run"]>,
  resume: { infra: "infra.yaml", pricePerHourUsd: 1, fromScratch: true, workload: { input: "name: x", source: "job.yaml" } } satisfies OptionsOf<Instance["resume"]>,
  // `frugal status [JOB]` is `frugal.status()` or `frugal.status(JOB)`: the job is its only input.
  status: {},
  logs: { attempt: 1 } satisfies OptionsOf<Instance["logs"]>,
  submit: { team: "research", priority: 5, server: "http://127.0.0.1:8080", token: "t" } satisfies OptionsOf<Instance["submit"]>,
  queue: { team: "research", state: "queued", server: "http://127.0.0.1:8080", token: "t" } satisfies OptionsOf<Instance["queue"]>,
  cancel: { server: "http://127.0.0.1:8080", token: "t" } satisfies OptionsOf<Instance["cancel"]>,
  drill: { source: "job.yaml", interruptions: 5, seed: 1, hardKill: true, graceSeconds: 60 } satisfies OptionsOf<Instance["drill"]>,
  simulate: {
    trace: "traces/",
    policies: "frugal",
    computeHours: 48,
    deadlineHours: 60,
    restartHours: 0.2,
    onDemandPriceUsdPerHour: 3,
    spotPriceUsdPerHour: 1,
    zones: "multi",
    starts: 10,
    seed: 1
  } satisfies Parameters<Instance["simulate"]>[0],
  report: { since: "30d", ceFiles: ["ce.json"], utilizationFile: "u.json", prometheusUrl: "http://127.0.0.1:9090" } satisfies OptionsOf<Instance["report"]>,
  "service.plan": { source: "svc.yaml", requests: "requests.csv" } satisfies OptionsOf<Instance["service"]["plan"]>,
  "service.simulate": {
    source: "svc.yaml",
    requests: "requests.csv",
    spotTraces: "traces/",
    rateScale: 1,
    policies: "frugal",
    days: 7,
    startHour: 0,
    dailyTrough: 0.3,
    peakHourUtc: 18,
    baselineOnDemandBase: 1
  } satisfies Parameters<Instance["service"]["simulate"]>[1],
  "service.apply": { source: "svc.yaml", engine: "ec2-asg", infra: "infra.yaml", dryRun: true, delete: false } satisfies Parameters<Instance["service"]["apply"]>[1],
  "service.status": { source: "svc.yaml", engine: "ec2-asg", infra: "infra.yaml" } satisfies Parameters<Instance["service"]["status"]>[1]
} as const

type Method = Exclude<keyof typeof OPTIONS, "make">

/**
 * Where each input of a command goes: `method.option` (an option of the call), `make.option` (an option of
 * `Frugal.make`, shared by every call), `argument` (the call's first argument: the workload, a job id), `method(argument)`
 * (the first argument of another method: `--resume JOB` is `frugal.resume(JOB)`), or `output`
 * (how the CLI shows the result, which the SDK returns as the object `--json` prints).
 */
interface Counterpart {
  readonly method: Method
  readonly inputs: Readonly<Record<string, "argument" | "output" | `make.${keyof typeof OPTIONS["make"]}` | `${Method}.${string}` | `${Method}(argument)`>>
}

const COUNTERPARTS: Readonly<Record<string, Counterpart>> = {
  "frugal plan": {
    method: "plan",
    inputs: { file: "argument", json: "output", top: "plan.top", catalog: "make.catalog", "pricing-config": "make.pricingConfig", calibration: "plan.calibration", infra: "plan.infra" }
  },
  "frugal estimate": { method: "estimate", inputs: { file: "argument", json: "output", calibration: "estimate.calibration" } },
  "frugal gpus": {
    method: "gpus",
    inputs: { region: "gpus.region", gpu: "gpus.gpu", json: "output", catalog: "make.catalog", "pricing-config": "make.pricingConfig" }
  },
  "frugal run": {
    method: "run",
    inputs: {
      file: "argument",
      runner: "run.runner",
      infra: "run.infra",
      "dry-run": "run.dryRun",
      json: "output",
      "job-id": "run.jobId",
      resume: "resume(argument)",
      "price-per-hour": "run.pricePerHourUsd",
      policy: "run.policy",
      "placement-from-plan": "run.placementFromPlan",
      catalog: "make.catalog",
      "from-scratch": "run.fromScratch"
    }
  },
  "frugal status": { method: "status", inputs: { job: "argument", json: "output" } },
  "frugal submit": { method: "submit", inputs: { file: "argument", team: "submit.team", priority: "submit.priority", server: "submit.server", json: "output" } },
  "frugal queue": { method: "queue", inputs: { team: "queue.team", state: "queue.state", server: "queue.server", json: "output" } },
  "frugal cancel": { method: "cancel", inputs: { job: "argument", server: "cancel.server", json: "output" } },
  "frugal logs": { method: "logs", inputs: { job: "argument", attempt: "logs.attempt", json: "output" } },
  "frugal drill": {
    method: "drill",
    inputs: {
      file: "argument",
      interruptions: "drill.interruptions",
      seed: "drill.seed",
      "hard-kill": "drill.hardKill",
      "grace-seconds": "drill.graceSeconds",
      json: "output"
    }
  },
  "frugal report": {
    method: "report",
    inputs: {
      since: "report.since",
      "ce-file": "report.ceFiles",
      "utilization-file": "report.utilizationFile",
      "prometheus-url": "report.prometheusUrl",
      // md, html and slack: `frugal.renderReport(format, options)`.
      format: "output",
      out: "output",
      catalog: "make.catalog"
    }
  },
  "frugal prices refresh": {
    method: "refreshPrices",
    inputs: {
      regions: "refreshPrices.regions",
      kinds: "refreshPrices.kinds",
      concurrency: "refreshPrices.concurrency",
      "spot-history-hours": "refreshPrices.spotHistoryHours",
      json: "output"
    }
  },
  "frugal simulate": {
    method: "simulate",
    inputs: {
      trace: "simulate.trace",
      policy: "simulate.policies",
      "compute-hours": "simulate.computeHours",
      "deadline-hours": "simulate.deadlineHours",
      "restart-hours": "simulate.restartHours",
      "on-demand-price": "simulate.onDemandPriceUsdPerHour",
      "spot-price": "simulate.spotPriceUsdPerHour",
      zones: "simulate.zones",
      starts: "simulate.starts",
      seed: "simulate.seed",
      json: "output"
    }
  },
  "frugal service plan": {
    method: "service.plan",
    inputs: { file: "argument", json: "output", requests: "service.plan.requests", catalog: "make.catalog" }
  },
  "frugal service simulate": {
    method: "service.simulate",
    inputs: {
      file: "argument",
      requests: "service.simulate.requests",
      "spot-traces": "service.simulate.spotTraces",
      "rate-scale": "service.simulate.rateScale",
      policies: "service.simulate.policies",
      days: "service.simulate.days",
      "start-hour": "service.simulate.startHour",
      "daily-trough": "service.simulate.dailyTrough",
      "peak-hour-utc": "service.simulate.peakHourUtc",
      "baseline-on-demand-base": "service.simulate.baselineOnDemandBase",
      catalog: "make.catalog",
      json: "output"
    }
  },
  "frugal service apply": {
    method: "service.apply",
    inputs: {
      file: "argument",
      engine: "service.apply.engine",
      infra: "service.apply.infra",
      "dry-run": "service.apply.dryRun",
      delete: "service.apply.delete",
      catalog: "make.catalog",
      json: "output"
    }
  },
  "frugal service status": {
    method: "service.status",
    inputs: { file: "argument", engine: "service.status.engine", infra: "service.status.infra", catalog: "make.catalog", json: "output" }
  }
}
/** Commands that only group others. */
const GROUPS = new Set(["frugal", "frugal prices", "frugal service", "frugal slack"])

/** Long-running front doors of their own, not library calls; each says where its capability lives. */
const FRONT_DOORS: Readonly<Record<string, string>> = {
  "frugal server": "the team's queue as an HTTP service: `serveFrugal` of @frugal/sdk/scheduler, over the same scheduler and ledger",
  "frugal slack serve": "the Slack bot is a front door like the CLI: `serveSlack` of @frugal/slack over the same SDK-level services",
  "frugal report schedule": "a long-running deliverer: `runScheduledReports` of @frugal/slack delivers what `frugal.report()` returns, each period once"
}

/**
 * The queue's clients, which arrived with the scheduler: their SDK-level functions are in @frugal/sdk/scheduler
 * (the CLI calls them), and the Promise methods of `Frugal.make()` come with the integration of the scheduler.
 */

const commandPaths = (command: Command.Command.Any, prefix: ReadonlyArray<string> = []): ReadonlyArray<ReadonlyArray<string>> => {
  const path = [...prefix, command.name]
  return [path, ...command.subcommands.flatMap((group) => group.commands.flatMap((sub) => commandPaths(sub, path)))]
}

/** The help the CLI prints for a command: its flags and arguments, as effect/cli declares them. */
const helpOf = (path: ReadonlyArray<string>): Promise<HelpDoc.HelpDoc> =>
  new Promise((resolve, reject) => {
    const presenter: CliOutput.Presenter = {
      present: (event) => Effect.sync(() => (event._tag === "Help" ? resolve(event.helpDoc) : reject(new Error(`no help for ${path.join(" ")}`))))
    }
    Effect.runPromise(
      Command.runWith(frugal, { version: "0" })([...path.slice(1), "--help"]).pipe(
        Effect.provideService(CliOutput.Presenter, presenter),
        Effect.provide(NodeServices.layer),
        Effect.ignore
      )
    ).catch(reject)
  })

const memberOf = (instance: Instance, method: string): unknown => {
  const [first, second] = method.split(".")
  const top: unknown = first === undefined ? undefined : Reflect.get(instance, first)
  return second === undefined ? top : typeof top === "object" && top !== null ? Reflect.get(top, second) : undefined
}

describe("the SDK does everything the CLI does", () => {
  const paths = commandPaths(frugal).map((path) => path.join(" "))

  it("knows every command of the CLI: a counterpart, a group, or a front door of its own", () => {
    const known = (path: string) => path in COUNTERPARTS || GROUPS.has(path) || path in FRONT_DOORS
    expect(paths.filter((path) => !known(path))).toEqual([])
    // And lists nothing the CLI no longer has.
    const listed = [...Object.keys(COUNTERPARTS), ...GROUPS, ...Object.keys(FRONT_DOORS)]
    expect(listed.filter((path) => !paths.includes(path))).toEqual([])
  })

  it("has a Frugal method for every command, and resume beside run", async () => {
    await using instance = Frugal.make()
    for (const counterpart of Object.values(COUNTERPARTS)) expect(typeof memberOf(instance, counterpart.method), counterpart.method).toBe("function")
    for (const extra of ["resume", "renderReport", "dispose"] as const) expect(typeof instance[extra]).toBe("function")
  })

  it.each(Object.keys(COUNTERPARTS))("maps every flag and argument of `%s` to an SDK input that exists", async (path) => {
    const counterpart = COUNTERPARTS[path]
    if (counterpart === undefined) throw new Error(path)
    await using instance = Frugal.make()
    const help = await helpOf(path.split(" "))
    const inputs = [...help.flags.map((flag) => flag.name), ...(help.args ?? []).map((arg) => arg.name)].sort()
    expect(inputs).toEqual(Object.keys(counterpart.inputs).sort())
    for (const [input, target] of Object.entries(counterpart.inputs)) {
      if (target === "argument" || target === "output") continue
      if (target.endsWith("(argument)")) {
        const method = Object.keys(OPTIONS).find((name) => `${name}(argument)` === target)
        expect(method !== undefined && typeof memberOf(instance, method), `${path} ${input} → ${target}`).toBe("function")
        continue
      }
      const dot = target.lastIndexOf(".")
      const owner = target.slice(0, dot)
      const option = target.slice(dot + 1)
      const known: object | undefined = new Map<string, object>(Object.entries(OPTIONS)).get(owner)
      expect(known !== undefined && option in known, `${path} ${input} → ${target}`).toBe(true)
    }
  })
})
