/**
 * Runs the real `frugal` executable (packages/cli/bin/frugal.js) as a child process, the way a user
 * or a script does, and collects what it printed and how it exited. The bin runs the bundle when it
 * is current and the TypeScript source otherwise, so tests see the code as it is now either way.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url))
export const frugalBin = fileURLToPath(new URL("../../packages/cli/bin/frugal.js", import.meta.url))
export const example = (name: string): string => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url))

export interface FrugalRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly milliseconds: number
}

export interface FrugalProcess {
  readonly child: ChildProcess
  /** stdout so far. */
  readonly stdout: () => string
  /** stderr so far. */
  readonly stderr: () => string
  readonly done: Promise<FrugalRun>
}

/** Starts `frugal` and returns at once, for tests that signal it or watch it while it runs. */
export const startFrugal = (
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly env?: Readonly<Record<string, string>> } = {}
): FrugalProcess => {
  const started = performance.now()
  // The parent runs on the pinned Node 24 (through pnpm); the child uses the same binary.
  const child = spawn(process.execPath, [frugalBin, ...args], {
    cwd: repoRoot,
    env: { ...process.env, FRUGAL_DEBUG: "", NO_COLOR: "1", ...options.env },
    stdio: ["pipe", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const done = new Promise<FrugalRun>((resolve, reject) => {
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr, milliseconds: performance.now() - started }))
  })
  child.stdin.end(options.stdin ?? "")
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

export const runFrugal = (
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly env?: Readonly<Record<string, string>> } = {}
): Promise<FrugalRun> => startFrugal(args, options).done

/** A stack frame as V8 prints it: what a user must never see without FRUGAL_DEBUG=1. */
export const STACK_FRAME = /^\s+at\s/m
