/**
 * The local engine: attempts are child processes on this machine (LocalRunner). Its launch request is the argv,
 * environment and working directory the process gets.
 */
import { Effect } from "effect"
import type { Engine } from "./Engine.ts"
import { protocolEnvironment } from "./LaunchSpec.ts"
import * as LocalRunner from "./LocalRunner.ts"
import { singleNodeArgv } from "./Torchrun.ts"

/** A POSIX shell word that is exactly `value`, for the dry-run text (the runner itself never uses a shell). */
const shellWord = (value: string): string => (/^[A-Za-z0-9_./=:@%+,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`)

export const localEngine = (options: LocalRunner.LocalRunnerOptions = {}): Engine => ({
  name: "local",
  describeLaunch: (request) => {
    const env = { FRUGAL_JOB_ID: request.jobId, FRUGAL_ATTEMPT_ID: request.attemptId, ...protocolEnvironment(request.launch, request.checkpointEverySeconds) }
    // Several processes start under torchrun (Torchrun.ts), as LocalRunner starts them.
    const argv = singleNodeArgv(request.launch, request.placement)
    return {
      engine: "local",
      request: { argv, env, workdir: request.launch.workdir },
      text: `cd ${shellWord(request.launch.workdir)} && ${Object.entries(env).map(([k, v]) => `${k}=${shellWord(v)}`).join(" ")} ${
        argv.map(shellWord).join(" ")
      }`
    }
  },
  runner: Effect.sync(() => LocalRunner.make(options))
})
