/**
 * Reading an attempt's log file back. Every engine that keeps the log in a file named by the ledger (local,
 * Slurm on shared storage, Kubernetes and EC2 copying what they collect) serves `Runner.logs` the same way:
 * the file's lines, oldest first, or nothing when there is no file yet.
 */
import { Stream } from "effect"
import { createReadStream, existsSync } from "node:fs"
import { createInterface } from "node:readline"
import { RunnerError } from "./Runner.ts"

/** The lines of the attempt's log file; empty when it has none (yet); a read failure names `runner` and the attempt. */
export const logFileLines = (
  attempt: { readonly attemptId: string; readonly logPath: string | null },
  runner: string
): Stream.Stream<string, RunnerError> =>
  attempt.logPath === null || !existsSync(attempt.logPath)
    ? Stream.empty
    : Stream.fromAsyncIterable(
      createInterface({ input: createReadStream(attempt.logPath), crlfDelay: Infinity }),
      (cause) =>
        new RunnerError({
          runner,
          operation: "logs",
          attemptId: attempt.attemptId,
          detail: cause instanceof Error ? cause.message : String(cause)
        })
    )
