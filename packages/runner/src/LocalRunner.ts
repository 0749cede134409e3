/**
 * The local engine: each attempt is a child process on this machine, started from an argv (never through a
 * shell, so `;`, `$(...)`, `|` and quotes in arguments reach the program as plain characters) in its own
 * process group, so that stopping it reaches every process it started (data-loader workers, torchrun
 * ranks). stdout is read line by line for protocol events; stderr goes straight to the attempt's log file
 * (by file descriptor, so the log keeps filling even if this process dies). A launch of several processes
 * runs under torchrun (standalone); its ranks stay in torchrun's process group, so a stop reaches every rank.
 */
import { Cause, Deferred, Effect, Layer, Queue } from "effect"
import { spawn } from "node:child_process"
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from "node:fs"
import { dirname } from "node:path"
import { createInterface } from "node:readline"
import { classifyEventLine, type InterruptedEvent, type TrainerEvent } from "@frugal/trainer"
import { type AttemptExit, exitFromStatus } from "./AttemptExit.ts"
import { protocolEnvironment } from "./LaunchSpec.ts"
import { logFileLines } from "./AttemptLogFile.ts"
import { runsUnderTorchrun, singleNodeArgv, torchrunAttemptExit } from "./Torchrun.ts"
import {
  attemptHandle,
  type AttemptRequest,
  type CancelOptions,
  type OrphanAttempt,
  Runner,
  RunnerError
} from "./Runner.ts"

export interface LocalRunnerOptions {
  /** Seconds a stopped command gets to write its final checkpoint before SIGKILL (default 30). */
  readonly graceSeconds?: number
}

const RUNNER = "local"
const POLL_MILLIS = 100

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** Sends a signal to a whole process group; false when the group no longer exists. */
const signalGroup = (pgid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

/**
 * Whether `pid` is still the process this runner started for `attemptId`: the pid may have been reused since
 * the ledger recorded it, so on Linux the process's environment must carry the attempt id.
 */
const isOurProcess = (pid: number, attemptId: string): boolean => {
  const environ = `/proc/${pid}/environ`
  if (!existsSync("/proc/self/environ")) return signalGroup(pid, 0)
  try {
    return readFileSync(environ, "latin1").split("\u0000").includes(`FRUGAL_ATTEMPT_ID=${attemptId}`)
  } catch {
    return false
  }
}

/** A process's state letter and process group (Linux `/proc/<pid>/stat`), or null when it cannot be read. */
const processStat = (pid: number): { readonly state: string; readonly group: number } | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    // "pid (command) state ppid pgrp …": the command may hold spaces and parentheses, so count from the last ")".
    const [state, , group] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return state === undefined || !Number.isInteger(Number(group)) ? null : { state, group: Number(group) }
  } catch {
    return null
  }
}

const processIds = (): ReadonlyArray<number> => readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number)

/**
 * Whether a process of the group still runs. A zombie does not: an orphan whose supervisor died is reaped by its new
 * parent (init) only when that gets round to it, which in a container may be seconds later or never.
 */
const groupRunning = (pgid: number): boolean => {
  if (!signalGroup(pgid, 0)) return false
  if (!existsSync("/proc/self/stat")) return true
  return processIds().some((pid) => {
    const stat = processStat(pid)
    return stat !== null && stat.group === pgid && stat.state !== "Z"
  })
}

/**
 * The command this runner started for `attemptId`, found by its environment when the ledger never got its pid (the
 * supervisor died between starting it and writing it down): the leader of its own process group whose environment
 * carries the attempt id. Linux only; null elsewhere or when there is none.
 */
const findAttemptProcess = (attemptId: string): number | null => {
  if (!existsSync("/proc/self/environ")) return null
  return processIds().find((pid) => processStat(pid)?.group === pid && isOurProcess(pid, attemptId)) ?? null
}

/** Polls until the process group is gone or the time is up; true when it is gone. */
const awaitGroupGone = (pgid: number, millis: number): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    for (let waited = 0; waited < millis; waited += POLL_MILLIS) {
      if (!groupRunning(pgid)) return true
      yield* Effect.sleep(POLL_MILLIS)
    }
    return !groupRunning(pgid)
  })

const spawnAttempt = (request: AttemptRequest, defaultGraceSeconds: number) =>
  Effect.gen(function*() {
    const { launch } = request
    const fail = (operation: string) => (cause: unknown) =>
      new RunnerError({ runner: RUNNER, operation, attemptId: request.attemptId, detail: errorText(cause) })

    const logFd = yield* Effect.try({
      try: () => {
        mkdirSync(dirname(request.logPath), { recursive: true })
        mkdirSync(launch.checkpointDir, { recursive: true })
        return openSync(request.logPath, "a")
      },
      catch: fail("prepare")
    })
    const underTorchrun = runsUnderTorchrun(launch, request.placement)
    const [program, ...args] = singleNodeArgv(launch, request.placement)
    const child = yield* Effect.try({
      try: () =>
        spawn(program, args, {
          cwd: launch.workdir,
          env: {
            ...process.env,
            // Protocol lines must reach us as they are written, not when a 4 KiB buffer fills.
            PYTHONUNBUFFERED: "1",
            FRUGAL_JOB_ID: request.jobId,
            FRUGAL_ATTEMPT_ID: request.attemptId,
            // torchrun looks at its ranks every 5 s by default: a local job would end up to 5 s after its ranks.
            ...(underTorchrun ? { PET_MONITOR_INTERVAL: "1" } : {}),
            ...protocolEnvironment(launch, request.checkpointEverySeconds)
          },
          detached: true,
          shell: false,
          stdio: ["ignore", "pipe", logFd]
        }),
      catch: fail("spawn")
    }).pipe(Effect.ensuring(Effect.sync(() => closeSync(logFd))))

    // `spawn` reports a missing program or workdir asynchronously, as an `error` event.
    yield* Effect.callback<void, RunnerError>((resume) => {
      child.once("spawn", () => resume(Effect.void))
      child.once("error", (error) => resume(Effect.fail(fail("spawn")(`${program}: ${error.message}`))))
    })
    const pid = child.pid
    const stdout = child.stdout
    if (pid === undefined || stdout === null) return yield* Effect.fail(fail("spawn")("no process id or stdout pipe"))

    const events = yield* Queue.unbounded<TrainerEvent, Cause.Done>()
    const log = createWriteStream(request.logPath, { flags: "a" })
    // A log that cannot be written (a full disk) loses lines, not the attempt: without a listener the stream's
    // error would end this whole process.
    log.on("error", () => undefined)
    const lines = createInterface({ input: stdout, crlfDelay: Infinity })
    let interrupted: InterruptedEvent | null = null
    lines.on("line", (line) => {
      const sorted = classifyEventLine(line)
      if (sorted._tag === "Event" && sorted.event.event === "interrupted") interrupted = sorted.event
      if (sorted._tag === "Event") Queue.offerUnsafe(events, sorted.event)
      else if (sorted._tag === "Malformed") log.write(`[frugal] malformed protocol line ignored: ${sorted.message}: ${line}\n`)
      else log.write(`${line}\n`)
    })
    lines.on("close", () => {
      Queue.endUnsafe(events)
      log.end()
    })

    let cancelRequested = false
    const exited = yield* Deferred.make<AttemptExit>()
    child.once("close", (code, signal) => {
      const status = exitFromStatus(code, signal)
      const exit = underTorchrun ? torchrunAttemptExit(status, interrupted) : status
      // A signal death we asked for is an interruption without a final checkpoint, not a crash.
      Deferred.doneUnsafe(
        exited,
        Effect.succeed(cancelRequested && exit._tag === "Crashed" ? { _tag: "Interrupted", resumable: false } : exit)
      )
    })

    const cancel = (options?: CancelOptions): Effect.Effect<void, RunnerError> =>
      Effect.gen(function*() {
        if (yield* Deferred.isDone(exited)) return
        cancelRequested = true
        const graceSeconds = options?.graceSeconds ?? defaultGraceSeconds
        signalGroup(pid, graceSeconds <= 0 ? "SIGKILL" : "SIGTERM")
        if (graceSeconds > 0) {
          const stopped = yield* Deferred.await(exited).pipe(Effect.timeoutOption(graceSeconds * 1000))
          if (stopped._tag === "None") signalGroup(pid, "SIGKILL")
        }
        yield* Deferred.await(exited)
        // Helpers the command started may outlive it; they belong to the same group.
        signalGroup(pid, "SIGKILL")
      })

    return attemptHandle(request, { externalId: String(pid), pid, events, exited, cancel })
  })

export const make = (options: LocalRunnerOptions = {}): Runner["Service"] => {
  const graceSeconds = options.graceSeconds ?? 30
  return Runner.of({
    name: RUNNER,
    submit: (request) =>
      Effect.acquireRelease(
        spawnAttempt(request, graceSeconds),
        (handle) => Effect.ignore(handle.cancel())
      ),
    stopOrphan: (orphan: OrphanAttempt, cancelOptions?: CancelOptions) =>
      Effect.gen(function*() {
        const pid = orphan.pid ?? findAttemptProcess(orphan.attemptId)
        if (pid === null || !isOurProcess(pid, orphan.attemptId)) return false
        const grace = cancelOptions?.graceSeconds ?? graceSeconds
        signalGroup(pid, grace <= 0 ? "SIGKILL" : "SIGTERM")
        if (!(yield* awaitGroupGone(pid, grace * 1000))) {
          signalGroup(pid, "SIGKILL")
          yield* awaitGroupGone(pid, 5_000)
        }
        return true
      }),
    logs: (attempt) => logFileLines(attempt, RUNNER)
  })
}

/** The local engine with a 30 s grace period. */
export const layer: Layer.Layer<Runner> = Layer.succeed(Runner, make())

export const layerWith = (options: LocalRunnerOptions): Layer.Layer<Runner> => Layer.succeed(Runner, make(options))
