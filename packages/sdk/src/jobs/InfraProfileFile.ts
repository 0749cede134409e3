/**
 * Which infrastructure profile applies (ARCHITECTURE.md): `--infra FILE`, else `FRUGAL_INFRA`, else
 * `$XDG_CONFIG_HOME/frugal/infra.yaml` (`~/.config/frugal/infra.yaml`) when that file exists, else none (this
 * machine only). A named file must exist; a bad one is `InvalidInput` naming each field (exit 2).
 */
import * as Effect from "effect/Effect"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { homedir } from "node:os"
import { join } from "node:path"
import { decodeInfraProfile, EMPTY_PROFILE, type InfraProfile, InvalidInput } from "@frugal/core"

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

const readProfile = (path: string, source: string): Effect.Effect<LoadedProfile, InvalidInput> =>
  Effect.flatMap(
    Effect.tryPromise({
      try: () => readFile(path, "utf8"),
      catch: (error) =>
        new InvalidInput({
          source,
          issues: [{ path: source, expected: "a readable infrastructure profile (YAML or JSON)", actual: error instanceof Error ? error.message : String(error) }]
        })
    }),
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
