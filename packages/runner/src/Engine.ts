/**
 * Engines: where attempts run. Each `runner-*` package exports one (`slurm`, `kubernetes`, `ec2`; `local` is
 * here): its settings come from the infrastructure profile (with environment overrides), it turns a placement into
 * its own launch request (RunInstances, a batch script, manifests) and says what that request is for `--dry-run`,
 * and its `Runner` starts, follows, adopts and stops attempts, reporting capacity errors as `ProvisioningFailed` and
 * reclaims as interruptions with the engine's reason. The supervisor sends each attempt to the engine its placement
 * names, so one job's ranked placements may span engines.
 */
import { Context, Effect, Layer, Schema, Scope } from "effect"
import type { EngineName } from "./Placement.ts"
import { type AttemptRequest, Runner } from "./Runner.ts"

/** What an engine would submit for an attempt, as data (`run --dry-run --json`) and as a person reads it. */
export interface EngineLaunch {
  readonly engine: EngineName
  /** The request itself: the RunInstances input, the sbatch options and script, the manifests. */
  readonly request: unknown
  /** The same as text: JSON with the user data below it, the batch script, the YAML. */
  readonly text: string
}

export interface Engine {
  readonly name: EngineName
  /** The launch request of an attempt (pure): what `submit` would send. */
  readonly describeLaunch: (request: AttemptRequest) => EngineLaunch
  /** The runtime, built once per `Engines` scope (clients, trackers) and closed with it. */
  readonly runner: Effect.Effect<Runner["Service"], never, Scope.Scope>
}

/** An engine that the configuration cannot provide: no profile entry, a bad setting. */
export class EngineUnavailable extends Schema.TaggedError<EngineUnavailable>()("EngineUnavailable", {
  engine: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `${this.engine} engine: ${this.detail}`
  }
}

export class Engines extends Context.Service<Engines, {
  readonly engine: (name: EngineName) => Effect.Effect<Engine, EngineUnavailable>
  /** The engine's runtime; the first call builds it, later calls share it. */
  readonly runner: (name: EngineName) => Effect.Effect<Runner["Service"], EngineUnavailable>
}>()("@frugal/runner/Engines") {
  /**
   * Engines built on demand from factories (an engine package is loaded only when a placement names it); each
   * runtime lives until the layer closes, which stops what it still tracks.
   */
  static readonly make = (
    factories: Partial<Record<EngineName, Effect.Effect<Engine, EngineUnavailable>>>
  ): Layer.Layer<Engines> =>
    Layer.effect(
      Engines,
      Effect.gen(function*() {
        const scope = yield* Effect.scope
        const engines = new Map<EngineName, Engine>()
        const runners = new Map<EngineName, Runner["Service"]>()
        const engine = (name: EngineName): Effect.Effect<Engine, EngineUnavailable> =>
          Effect.suspend(() => {
            const known = engines.get(name)
            if (known !== undefined) return Effect.succeed(known)
            const factory = factories[name]
            if (factory === undefined) {
              return Effect.fail(new EngineUnavailable({ engine: name, detail: "not configured (add it to the infrastructure profile)" }))
            }
            return Effect.tap(factory, (built) => Effect.sync(() => engines.set(name, built)))
          })
        const runner = (name: EngineName): Effect.Effect<Runner["Service"], EngineUnavailable> =>
          Effect.suspend(() => {
            const known = runners.get(name)
            if (known !== undefined) return Effect.succeed(known)
            return Effect.flatMap(engine(name), (built) =>
              Effect.tap(Scope.provide(built.runner, scope), (started) => Effect.sync(() => runners.set(name, started))))
          })
        return Engines.of({ engine, runner })
      })
    )

  /** Every placement runs on the one `Runner` provided (tests, and a single engine chosen by `--runner`). */
  static readonly fromRunner: Layer.Layer<Engines, never, Runner> = Layer.effect(
    Engines,
    Effect.map(Effect.service(Runner), (single) => {
      const engine: Engine = {
        name: "local",
        describeLaunch: (request) => ({ engine: "local", request: { argv: request.launch.argv }, text: request.launch.argv.join(" ") }),
        runner: Effect.succeed(single)
      }
      return Engines.of({ engine: () => Effect.succeed(engine), runner: () => Effect.succeed(single) })
    })
  )
}
