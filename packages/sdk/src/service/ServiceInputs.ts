/**
 * What the service operations read: the workload (one, not a fleet), a request trace, spot traces, the
 * infrastructure profile and the price catalog. Files go through the shared bounded reader, so a missing,
 * unreadable or oversized file is `InvalidInput` naming the field it came from (exit 2), like malformed content.
 */
import * as Effect from "effect/Effect"
import { InvalidInput, RemoteServiceFailure, type Workload, workloadsOf } from "@frugal/core"
import { readInputFile } from "@frugal/core/io"
import { decodeTraceFiles, type SpotTrace } from "@frugal/planner"
import { type Catalog, PriceCatalog } from "@frugal/pricing"
import { decodeRequestTrace, type RequestTrace, type ServiceInfra } from "@frugal/serving"
import type { Environment } from "../Catalogs.ts"
import { loadInfraProfile } from "../InfraProfileFile.ts"
import { readTraceTexts } from "../Simulation.ts"
import { decodeWorkloadInput, type WorkloadInput } from "../WorkloadInput.ts"

/** The one workload of the input: a service is one workload, never a fleet. */
export const serviceWorkload = (input: WorkloadInput, source: string): Effect.Effect<Workload, InvalidInput> =>
  Effect.flatMap(decodeWorkloadInput(input, source), (file) => {
    const workloads = workloadsOf(file)
    const [only] = workloads
    return workloads.length === 1 && only !== undefined
      ? Effect.succeed(only)
      : Effect.fail(new InvalidInput({ source, issues: [{ path: "workloads", expected: "one workload (a service), not a fleet", actual: `${workloads.length} workloads` }] }))
  })

export const readRequestTrace = (path: string, field = "requests"): Effect.Effect<RequestTrace, InvalidInput> =>
  Effect.flatMap(readInputFile(path, { kind: "requestTrace", flag: field }), (text) => decodeRequestTrace(text, path))

export const readSpotTraces = (path: string, field = "spotTraces"): Effect.Effect<ReadonlyArray<SpotTrace>, InvalidInput> =>
  Effect.flatMap(readTraceTexts(path, field), decodeTraceFiles)

/** The infrastructure profile (`infra`, else FRUGAL_INFRA, else the XDG default); a service engine needs one. */
export const serviceInfra = (infra: string | undefined, env: Environment): Effect.Effect<{ readonly infra: ServiceInfra; readonly path: string }, InvalidInput> =>
  Effect.flatMap(loadInfraProfile(infra, env), (loaded) =>
    loaded.path === null
      ? Effect.fail(new InvalidInput({
        source: "--infra",
        issues: [{ path: "--infra", expected: "an infrastructure profile (--infra FILE, FRUGAL_INFRA or $XDG_CONFIG_HOME/frugal/infra.yaml)" }]
      }))
      : Effect.succeed({ infra: loaded.profile, path: loaded.path }))

/** The whole catalog; a catalog that fails to answer is a remote failure (exit 4). */
export const serviceCatalog: Effect.Effect<Catalog, RemoteServiceFailure, PriceCatalog> = Effect.flatMap(
  PriceCatalog,
  (prices) =>
    prices.catalog().pipe(
      Effect.mapError((error) => new RemoteServiceFailure({ service: "price catalog", operation: "catalog", detail: error.detail }))
    )
)
