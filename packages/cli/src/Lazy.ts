/**
 * Keeps `frugal plan` fast: a command module declares its flags and arguments eagerly (effect/cli needs
 * them to parse and print help) but loads its implementation only when it runs. A command that needs
 * the AWS SDK, Slack, Kubernetes or SQLite imports them from a module loaded through `lazy`, so a
 * user who only plans never pays for them (the bundle puts each such module in its own chunk).
 *
 * ```ts
 * export const report = Command.make("report", { since }, lazy(() => import("./report/run.ts")))
 * ```
 * where `./report/run.ts` exports `run(input)`.
 */
import * as Effect from "effect/Effect"

export const lazy = <Input, E, R>(
  load: () => Promise<{ readonly run: (input: Input) => Effect.Effect<void, E, R> }>
) =>
(input: Input): Effect.Effect<void, E, R> => Effect.flatMap(Effect.promise(load), (module) => module.run(input))
