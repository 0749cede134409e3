/**
 * Where Frugal keeps its state on this machine: `$FRUGAL_HOME`, else `$XDG_DATA_HOME/frugal`,
 * else `~/.local/share/frugal` (the XDG base-directory default).
 */
import { homedir } from "node:os"
import { join } from "node:path"

export const frugalHome = (env: Readonly<Record<string, string | undefined>>): string => {
  const explicit = env["FRUGAL_HOME"]
  if (explicit !== undefined && explicit !== "") return explicit
  const xdg = env["XDG_DATA_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".local", "share"), "frugal")
}

export const defaultLedgerPath = (env: Readonly<Record<string, string | undefined>>): string =>
  join(frugalHome(env), "ledger.sqlite")

/** Per-job files (attempt logs, default checkpoint directory) live under `$FRUGAL_HOME/jobs/<id>`. */
export const jobDirectory = (env: Readonly<Record<string, string | undefined>>, jobId: string): string =>
  join(frugalHome(env), "jobs", jobId)
