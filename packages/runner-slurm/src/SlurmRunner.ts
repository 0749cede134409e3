/**
 * The Slurm engine. A Frugal job is one Slurm batch job (`sbatch --requeue`); each run of its batch script is
 * one attempt in the ledger. When Slurm requeues the job (pre-emption, `scontrol requeue`, a failed node) the
 * command gets SIGTERM, checkpoints and exits 75; the attempt ends as an interruption, and the supervisor's
 * relaunch adopts the requeued Slurm job (same job id, `SLURM_RESTART_COUNT` one higher) instead of submitting
 * another, so the cluster's own queue position and pre-emption accounting stay intact. When the job ends for
 * good (completed, failed, cancelled, timed out) a relaunch submits a new batch job.
 *
 * Progress comes from the per-restart files the script writes on shared storage (see BatchScript), state
 * from `scontrol show job`. Nothing is left queued: closing the engine cancels every job it still tracks.
 */
import { Deferred, Effect, Layer, Queue, type Cause } from "effect"
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import {
  attemptHandle,
  type AttemptExit,
  type AttemptRequest,
  type CancelOptions,
  exitFromStatus,
  logFileLines,
  type OrphanAttempt,
  processesPerNode,
  ProvisioningFailed,
  Runner,
  RunnerError
} from "@frugal/runner"
import { classifyEventLine, type TrainerEvent } from "@frugal/trainer"
import { attemptFiles, batchScript, type BatchScriptInput, directiveProblems, invalidEnvironmentNames, sbatchArguments } from "./BatchScript.ts"
import { FileTail } from "./FileTail.ts"
import { makeSlurmCommands, type SlurmCommands } from "./SlurmCommands.ts"
import { isTerminal, type SlurmJobState } from "./SlurmJob.ts"
import { attemptTimeLimitMinutes, launchTimeLimitMinutes } from "./TimeLimit.ts"

export interface SlurmRunnerOptions {
  readonly partition: string | null
  readonly account: string | null
  readonly qos: string | null
  /** Whole minutes for `--time` for every job; null takes the job's own (TimeLimit.ts), else the partition's default. */
  readonly timeLimitMinutes: number | null
  /** Seconds before the time limit at which the command gets SIGUSR1 (default 120). */
  readonly signalSeconds: number
  readonly cpusPerTask: number | null
  /** Shared directory for scripts and per-restart outputs; default `<checkpoint dir>/../slurm`. */
  readonly outputDirectory: string | null
  readonly extraOptions: ReadonlyArray<string>
  /** torchrun c10d rendezvous port on the first node (multi-node jobs). */
  readonly rendezvousPort: number
  /** Seconds a cancelled command gets to write its final checkpoint before SIGKILL (default 30). */
  readonly graceSeconds: number
  /** How often the output files are read, milliseconds (default 500). */
  readonly pollMillis: number
  /** How often `scontrol` is asked, milliseconds (default 2000). */
  readonly stateEveryMillis: number
  /** Environment of the Slurm commands (SLURM_CONF, PATH); default this process's. */
  readonly commandEnvironment: NodeJS.ProcessEnv
  /** Per profile pool (`cluster/partition`): the account and QOS its jobs are charged to. */
  readonly pools: Readonly<Record<string, { readonly account: string | null; readonly qos: string | null }>>
}

export const defaultSlurmOptions: SlurmRunnerOptions = {
  partition: null,
  account: null,
  qos: null,
  timeLimitMinutes: null,
  signalSeconds: 120,
  cpusPerTask: null,
  outputDirectory: null,
  extraOptions: [],
  rendezvousPort: 29500,
  graceSeconds: 30,
  pollMillis: 500,
  stateEveryMillis: 2000,
  commandEnvironment: process.env,
  pools: {}
}

const RUNNER = "slurm"
/** How long an interrupted run waits for Slurm to requeue its job, to hold it there. */
const HOLD_WAIT_MILLIS = 15_000

/** How long a relaunch waits for Slurm to finish requeueing the previous run before submitting anew. */
const REQUEUE_WAIT_MILLIS = 60_000

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** Slurm job name of a Frugal job: how a restarted supervisor finds the batch job again. */
export const slurmJobName = (jobId: string): string => `frugal-${jobId}`

export const outputDirectoryFor = (options: SlurmRunnerOptions, request: AttemptRequest): string =>
  options.outputDirectory === null
    ? join(dirname(request.launch.checkpointDir), "slurm")
    : join(options.outputDirectory, request.jobId)

/** The partition a placement names: a profile pool (`lab/gpu` → `gpu`), else the engine's configured one. */
export const partitionOf = (options: SlurmRunnerOptions, request: AttemptRequest): string | null => {
  const pool = request.placement.pool
  if (pool === undefined || pool === null || pool.startsWith("env/")) return options.partition
  return pool.slice(pool.indexOf("/") + 1)
}

/** What the batch script is made from: the placement's shape and the engine's options. */
export const batchInputFor = (options: SlurmRunnerOptions, request: AttemptRequest): BatchScriptInput => {
  const { launch, placement } = request
  const pool = placement.pool === undefined || placement.pool === null ? undefined : options.pools[placement.pool]
  return {
    jobName: slurmJobName(request.jobId),
    partition: partitionOf(options, request),
    account: pool?.account ?? options.account,
    qos: pool?.qos ?? options.qos,
    nodes: Math.max(1, placement.instanceCount),
    gpusPerNode: placement.acceleratorsPerInstance,
    cpusPerTask: options.cpusPerTask,
    // FRUGAL_SLURM_TIME_MINUTES of the engine's environment wins, then the workload's own run.env; else the limit
    // derived for this attempt from the work left at this placement (TimeLimit.ts); else the partition's default.
    timeLimitMinutes: options.timeLimitMinutes ?? launchTimeLimitMinutes(launch.env) ?? attemptTimeLimitMinutes(request, options.signalSeconds),
    signalSeconds: options.signalSeconds,
    outputDirectory: outputDirectoryFor(options, request),
    workdir: launch.workdir,
    argv: launch.argv,
    env: {
      FRUGAL_JOB_ID: request.jobId,
      FRUGAL_ATTEMPT_ID: request.attemptId,
      FRUGAL_CHECKPOINT_DIR: launch.checkpointDir,
      ...(request.checkpointEverySeconds === null
        ? {}
        : { FRUGAL_CHECKPOINT_EVERY_SECONDS: String(request.checkpointEverySeconds) }),
      ...launch.env
    },
    rendezvousPort: options.rendezvousPort,
    extraOptions: options.extraOptions,
    processesPerNode: processesPerNode(placement.acceleratorsPerInstance, launch.processesPerNode),
    torchrunProgram: launch.torchrunProgram ?? null
  }
}

/** The script for a request: what `sbatch` gets (exported for `--dry-run` and script-level tests). */
export const scriptFor = (options: SlurmRunnerOptions, request: AttemptRequest): string => batchScript(batchInputFor(options, request))

/** The sbatch command line for a request, the script last. */
export const sbatchCommandFor = (options: SlurmRunnerOptions, request: AttemptRequest, scriptPath: string): ReadonlyArray<string> => [
  "sbatch",
  "--parsable",
  ...sbatchArguments(batchInputFor(options, request)),
  scriptPath
]

/** sbatch's refusals that mean the cluster cannot host this shape now, not that the request is wrong. */
const CAPACITY_REFUSALS: ReadonlyArray<readonly [RegExp, string]> = [
  [/requested node configuration is not available/i, "NodeConfigUnavailable"],
  [/node count specification invalid/i, "NodeCountUnavailable"],
  [/partition.*(down|inactive|drain)/i, "PartitionDown"],
  [/QOSMaxGRESPerUser|AssocGrpGRES|QOSGrpGRES|MaxGRESPerAccount/i, "GresLimit"]
]

/** How a run of the script ended when it wrote no exit status (killed, node lost, requeued hard). */
const exitFromSlurmState = (state: SlurmJobState | null, cancelRequested: boolean): AttemptExit => {
  if (state === null) return { _tag: "Lost", detail: "the job is no longer known to Slurm" }
  switch (state.state) {
    case "CANCELLED":
    case "PREEMPTED":
    case "TIMEOUT":
    case "DEADLINE":
      return { _tag: "Interrupted", resumable: false, reason: state.state }
    case "NODE_FAIL":
    case "BOOT_FAIL":
      return { _tag: "Lost", detail: `Slurm job ${state.jobId}: ${state.state}` }
    default: {
      const exit = exitFromStatus(state.exitCode, state.exitSignal ? String(state.exitSignal) : null)
      return cancelRequested && exit._tag === "Crashed" ? { _tag: "Interrupted", resumable: false } : exit
    }
  }
}

interface Tracked {
  readonly slurmJobId: string
}

export const make = (options: SlurmRunnerOptions, commands: SlurmCommands, tracked: Map<string, Tracked>) => {
  const fail = (operation: string, attemptId: string) => (cause: unknown) =>
    new RunnerError({ runner: RUNNER, operation, attemptId, detail: errorText(cause) })

  /**
   * A run of this job's Slurm batch job that Slurm will start (or has started) and no attempt has claimed:
   * Slurm requeued it. Waits while Slurm is still between the old run's end and the requeue.
   */
  const adoptable = (request: AttemptRequest, outputs: string) =>
    Effect.gen(function*() {
      const known = tracked.get(request.jobId)?.slurmJobId
      const candidates = known === undefined ? yield* commands.findByName(slurmJobName(request.jobId)) : [known]
      const partition = partitionOf(options, request)
      for (const slurmJobId of candidates) {
        for (let waited = 0; waited <= REQUEUE_WAIT_MILLIS; waited += 1000) {
          const state = yield* commands.show(slurmJobId)
          if (state === null || isTerminal(state)) break
          if (partition !== null && state.partition !== null && state.partition !== partition) {
            // The policy moved the job to another partition: the requeued run here must not run as well.
            yield* commands.scancel(slurmJobId)
            break
          }
          if (!existsSync(attemptFiles(outputs, slurmJobId, state.restarts).exit)) {
            // Held when its last run ended (below): this attempt claims the requeued run, so Slurm may start it.
            yield* commands.release(slurmJobId)
            return { slurmJobId, restart: state.restarts }
          }
          if (waited === REQUEUE_WAIT_MILLIS) {
            // Neither requeued nor ended after a minute: stop it rather than run the job twice.
            yield* commands.scancel(slurmJobId)
            break
          }
          yield* Effect.sleep(1000)
        }
      }
      return null
    })

  /** A handle that follows run `restart` of a Slurm job to its end (submitted now, requeued, or adopted). */
  const follow = (request: AttemptRequest, outputs: string, slurmJobId: string, restart: number) =>
    Effect.gen(function*() {
      tracked.set(request.jobId, { slurmJobId })
      const files = attemptFiles(outputs, slurmJobId, restart)

      const events = yield* Queue.unbounded<TrainerEvent, Cause.Done>()
      const exited = yield* Deferred.make<AttemptExit>()
      let cancelRequested = false
      const stdout = new FileTail(files.stdout)
      const stderr = new FileTail(files.stderr)
      const drain = (final: boolean) => {
        const outLines = final ? stdout.flush() : stdout.read()
        const errLines = final ? stderr.flush() : stderr.read()
        const logLines: Array<string> = [...errLines]
        for (const line of outLines) {
          const sorted = classifyEventLine(line)
          if (sorted._tag === "Event") Queue.offerUnsafe(events, sorted.event)
          else if (sorted._tag === "Malformed") logLines.push(`[frugal] malformed protocol line ignored: ${sorted.message}: ${line}`)
          else logLines.push(line)
        }
        if (logLines.length > 0) appendFileSync(request.logPath, `${logLines.join("\n")}\n`)
      }
      const finish = (exit: AttemptExit) =>
        Effect.sync(() => {
          drain(true)
          Queue.endUnsafe(events)
          Deferred.doneUnsafe(exited, Effect.succeed(exit))
        })

      const readExitFile = (): AttemptExit | null => {
        if (!existsSync(files.exit)) return null
        const code = Number(readFileSync(files.exit, "utf8").trim())
        const exit = exitFromStatus(Number.isInteger(code) ? code : null, null)
        if (cancelRequested && exit._tag === "Crashed") return { _tag: "Interrupted", resumable: false }
        // 75 without our asking: Slurm sent SIGTERM (a requeue or a pre-emption) and the command checkpointed.
        return exit._tag === "Interrupted" && !cancelRequested ? { ...exit, reason: "requeued or pre-empted (exit 75)" } : exit
      }

      /**
       * Slurm requeued the job behind this attempt (pre-emption, `scontrol requeue`): the requeued run would start
       * on its own, unwatched and unbilled, while the policy decides, or waits out a cool-down. It is held until
       * the next attempt here claims it (released in `adoptable`); one elsewhere cancels it; so does closing the
       * engine. If Slurm starts it before the hold lands, the next attempt here adopts it as it runs.
       */
      const holdRequeued = Effect.gen(function*() {
        for (let waited = 0; waited <= HOLD_WAIT_MILLIS; waited += 500) {
          const state = yield* commands.show(slurmJobId)
          if (state === null || isTerminal(state)) return
          if (state.state === "PENDING") {
            if (yield* commands.hold(slurmJobId)) {
              appendFileSync(request.logPath, `[frugal] Slurm job ${slurmJobId} requeued; held until the next attempt claims it\n`)
            }
            return
          }
          if (state.state === "RUNNING" && state.restarts > restart) return
          yield* Effect.sleep(500)
        }
      }).pipe(Effect.ignore)
      const ended = (exit: AttemptExit) =>
        exit._tag === "Interrupted" && !cancelRequested ? Effect.andThen(holdRequeued, finish(exit)) : finish(exit)

      const watch = Effect.gen(function*() {
        let sinceState = options.stateEveryMillis
        let failedQueries = 0
        while (true) {
          drain(false)
          const fromFile = readExitFile()
          if (fromFile !== null) return yield* ended(fromFile)
          if (sinceState >= options.stateEveryMillis) {
            sinceState = 0
            const state = yield* Effect.result(commands.show(slurmJobId))
            if (state._tag === "Failure") {
              // The controller may be restarting; give up only after a minute of failures.
              if (++failedQueries * options.stateEveryMillis > 60_000) {
                return yield* ended({ _tag: "Lost", detail: state.failure.message })
              }
            } else {
              failedQueries = 0
              const current = state.success
              const gone = current === null || isTerminal(current) || current.restarts > restart
              if (gone) {
                // Shared storage may show the exit status a moment after Slurm shows the end.
                yield* Effect.sleep(Math.min(5000, options.stateEveryMillis * 2))
                const late = readExitFile()
                if (late !== null) return yield* ended(late)
                if (current !== null && current.restarts > restart) {
                  return yield* ended({ _tag: "Interrupted", resumable: false, reason: "requeued" })
                }
                return yield* ended(exitFromSlurmState(current, cancelRequested))
              }
            }
          }
          yield* Effect.sleep(options.pollMillis)
          sinceState += options.pollMillis
        }
      })
      yield* Effect.forkScoped(watch)

      const awaitExit = (millis: number) => Deferred.await(exited).pipe(Effect.timeoutOption(millis))
      const cancel = (cancelOptions?: CancelOptions): Effect.Effect<void, RunnerError> =>
        Effect.gen(function*() {
          if (yield* Deferred.isDone(exited)) return
          cancelRequested = true
          const graceSeconds = cancelOptions?.graceSeconds ?? options.graceSeconds
          if (graceSeconds > 0) {
            // The batch shell forwards SIGTERM to the command, which checkpoints and exits 75.
            yield* commands.scancel(slurmJobId, { signal: "TERM", batchOnly: true })
            const stopped = yield* awaitExit(graceSeconds * 1000)
            if (stopped._tag === "None") yield* commands.scancel(slurmJobId, { signal: "KILL" })
          } else {
            yield* commands.scancel(slurmJobId, { signal: "KILL" })
          }
          // Ends the job for good: a cancelled job must not be requeued behind our back.
          yield* commands.scancel(slurmJobId)
          yield* Deferred.await(exited)
        })

      return attemptHandle(request, { externalId: slurmJobId, pid: null, events, exited, cancel })
    })

  const start = (request: AttemptRequest) =>
    Effect.gen(function*() {
      const { launch } = request
      const outputs = outputDirectoryFor(options, request)
      const badNames = invalidEnvironmentNames(launch.env)
      if (badNames.length > 0) {
        return yield* fail("prepare", request.attemptId)(
          `environment names a shell cannot export: ${badNames.join(", ")}`
        )
      }
      const problems = directiveProblems(batchInputFor(options, request))
      if (problems.length > 0) {
        return yield* fail("prepare", request.attemptId)(`values that cannot be #SBATCH directives: ${problems.join("; ")}`)
      }
      yield* Effect.try({
        try: () => {
          for (const directory of [outputs, launch.checkpointDir, dirname(request.logPath)]) {
            mkdirSync(directory, { recursive: true })
          }
        },
        catch: fail("prepare", request.attemptId)
      })

      const adopted = yield* adoptable(request, outputs)
      let slurmJobId: string
      let restart: number
      if (adopted !== null) {
        slurmJobId = adopted.slurmJobId
        restart = adopted.restart
        appendFileSync(request.logPath, `[frugal] Slurm job ${slurmJobId} requeued: this attempt is its restart ${restart}\n`)
      } else {
        const partition = partitionOf(options, request)
        if (partition !== null) {
          const state = yield* commands.partitionState(partition)
          if (state !== null && !/^UP\b/.test(state)) {
            return yield* new ProvisioningFailed({
              runner: RUNNER,
              code: `Partition${state.charAt(0)}${state.slice(1).toLowerCase()}`,
              scope: "pool",
              detail: `partition ${partition} is ${state}`
            })
          }
        }
        const scriptPath = join(outputs, `${request.attemptId}.sbatch`)
        yield* Effect.try({
          try: () => writeFileSync(scriptPath, scriptFor(options, request), { mode: 0o700 }),
          catch: fail("prepare", request.attemptId)
        })
        const submitted = yield* commands.sbatch(scriptPath, request.attemptId, sbatchArguments(batchInputFor(options, request)))
        if (typeof submitted !== "string") {
          const capacity = CAPACITY_REFUSALS.find(([pattern]) => pattern.test(submitted.stderr))
          if (capacity !== undefined) {
            return yield* new ProvisioningFailed({ runner: RUNNER, code: capacity[1], scope: "pool", detail: submitted.stderr })
          }
          return yield* fail("sbatch", request.attemptId)(submitted.stderr)
        }
        slurmJobId = submitted
        restart = 0
        appendFileSync(request.logPath, `[frugal] submitted Slurm job ${slurmJobId} (${scriptPath})\n`)
      }
      return yield* follow(request, outputs, slurmJobId, restart)
    })

  return Runner.of({
    name: RUNNER,
    submit: (request) => Effect.acquireRelease(start(request), (handle) => Effect.ignore(handle.cancel())),
    adopt: (orphan, request) =>
      Effect.gen(function*() {
        const slurmJobId = orphan.externalId
        if (slurmJobId === null || !/^\d+$/.test(slurmJobId)) return null
        const state = yield* commands.show(slurmJobId)
        if (state === null || isTerminal(state)) return null
        const outputs = outputDirectoryFor(options, request)
        // The run the dead supervisor followed has ended if its exit status is written; a later run is a requeue.
        if (existsSync(attemptFiles(outputs, slurmJobId, state.restarts).exit)) return null
        yield* Effect.sync(() => {
          mkdirSync(dirname(request.logPath), { recursive: true })
          appendFileSync(request.logPath, `[frugal] adopted Slurm job ${slurmJobId} (restart ${state.restarts}) after the supervisor restarted\n`)
        })
        return yield* Effect.acquireRelease(follow(request, outputs, slurmJobId, state.restarts), (handle) => Effect.ignore(handle.cancel()))
      }),
    stopOrphan: (orphan: OrphanAttempt, cancelOptions?: CancelOptions) =>
      Effect.gen(function*() {
        const slurmJobId = orphan.externalId
        if (slurmJobId === null || !/^\d+$/.test(slurmJobId)) return false
        const state = yield* commands.show(slurmJobId)
        if (state === null || isTerminal(state)) return false
        const grace = cancelOptions?.graceSeconds ?? options.graceSeconds
        if (grace > 0) {
          yield* commands.scancel(slurmJobId, { signal: "TERM", batchOnly: true })
          for (let waited = 0; waited < grace * 1000; waited += 1000) {
            const now = yield* commands.show(slurmJobId)
            if (now === null || isTerminal(now)) break
            yield* Effect.sleep(1000)
          }
        }
        yield* commands.scancel(slurmJobId)
        return true
      }),
    logs: (attempt) => logFileLines(attempt, RUNNER)
  })
}

/**
 * The Slurm engine as a layer. Closing it cancels every Slurm job it submitted or adopted that is still
 * queued or running (a job Slurm requeued after the supervisor's last attempt, say), so none is left behind.
 */
export const layer = (options: Partial<SlurmRunnerOptions> = {}): Layer.Layer<Runner> =>
  Layer.effect(
    Runner,
    Effect.gen(function*() {
      const resolved: SlurmRunnerOptions = { ...defaultSlurmOptions, ...options }
      const commands = makeSlurmCommands(resolved.commandEnvironment)
      const tracked = new Map<string, Tracked>()
      yield* Effect.addFinalizer(() =>
        Effect.forEach([...tracked.values()], ({ slurmJobId }) =>
          Effect.ignore(Effect.flatMap(commands.show(slurmJobId), (state) =>
            state === null || isTerminal(state) ? Effect.void : commands.scancel(slurmJobId))), { discard: true })
      )
      return make(resolved, commands, tracked)
    })
  )
