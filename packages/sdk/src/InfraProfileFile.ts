/**
 * Which infrastructure profile applies (ARCHITECTURE.md): `--infra FILE`, else `FRUGAL_INFRA`, else
 * `$XDG_CONFIG_HOME/frugal/infra.yaml` (`~/.config/frugal/infra.yaml`) when that file exists, else none (this
 * machine only). A named file must exist; a bad one is `InvalidInput` naming each field (exit 2).
 */
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { decodeInfraProfile, EMPTY_PROFILE, type InfraProfile, type InvalidInput } from "@frugal/core"
import { readInputFile } from "@frugal/core/io"

export interface LoadedProfile {
  readonly profile: InfraProfile
  /** Where it came from; null when no profile applies. */
  readonly path: string | null
}

/** The default profile path by the XDG Base Directory rule. */
export const defaultInfraProfilePath = (env: Readonly<Record<string, string | undefined>>): string => {
  const xdg = env["XDG_CONFIG_HOME"]
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".config"), "frugal", "infra.yaml")
}

/** Read through the bounded reader: a regular file of at most 1 MiB (a FIFO or a device is refused at once). */
const readProfile = (path: string, source: string): Effect.Effect<LoadedProfile, InvalidInput> =>
  Effect.flatMap(
    readInputFile(path, { kind: "infraProfile", flag: source }),
    (text) => Effect.map(decodeInfraProfile(text, path), (profile) => ({ profile, path }))
  )

/** The profile that applies, by the rule above. */
export const loadInfraProfile = (
  flagPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<LoadedProfile, InvalidInput> => {
  if (flagPath !== undefined) return readProfile(flagPath, "--infra")
  const fromEnv = env["FRUGAL_INFRA"]
  if (fromEnv !== undefined && fromEnv !== "") return readProfile(fromEnv, "FRUGAL_INFRA")
  const fallback = defaultInfraProfilePath(env)
  return existsSync(fallback) ? readProfile(fallback, fallback) : Effect.succeed({ profile: EMPTY_PROFILE, path: null })
}
