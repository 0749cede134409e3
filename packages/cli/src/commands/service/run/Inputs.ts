/**
 * Reading what the service commands need: the workload (one, not a fleet), a request trace, spot traces, the
 * infrastructure profile and the price catalog. File-system failures become `InvalidInput` naming the file or
 * flag (exit 2), like malformed content does.
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import { InvalidInput, RemoteServiceFailure, type Workload, workloadsOf } from "@frugal/core"
import { decodeTraceFiles, type SpotTrace } from "@frugal/planner"
import { PriceCatalog, type Catalog } from "@frugal/pricing"
import { decodeRequestTrace, decodeServiceInfra, type RequestTrace, type ServiceInfra } from "@frugal/serving"
import { catalogLayer } from "../../../Catalogs.ts"
import { readWorkloadFile } from "../../../WorkloadInput.ts"
import { readTraceTexts } from "../../simulate.ts"

/** A request trace larger than this is not one this simulator replays. */
const MAX_TRACE_BYTES = 256 * 1024 * 1024

const invalid = (source: string, expected: string, actual?: string) =>
  new InvalidInput({ source, issues: [{ path: source, expected, ...(actual === undefined ? {} : { actual }) }] })

export const readServiceWorkload = (path: string): Effect.Effect<Workload, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(readWorkloadFile(path), (file) => {
    const workloads = workloadsOf(file)
    const [only] = workloads
    return workloads.length === 1 && only !== undefined
      ? Effect.succeed(only)
      : Effect.fail(new InvalidInput({ source: path, issues: [{ path: "workloads", expected: "one workload (a service), not a fleet", actual: `${workloads.length} workloads` }] }))
  })

const readText = (flag: string, path: string, expected: string): Effect.Effect<string, InvalidInput, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(path).pipe(Effect.mapError(() => invalid(flag, expected, path)))
    if (info.type !== "File") return yield* invalid(flag, expected, `${path} (a ${info.type.toLowerCase()})`)
    if (Number(info.size) > MAX_TRACE_BYTES) return yield* invalid(flag, `${expected} of at most ${MAX_TRACE_BYTES / 1024 / 1024} MiB`, path)
    return yield* fs.readFileString(path).pipe(Effect.mapError(() => invalid(flag, expected, path)))
  })

export const readRequestTrace = (path: string): Effect.Effect<RequestTrace, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(readText("--requests", path, "a readable request trace CSV"), (text) => decodeRequestTrace(text, path))

export const readSpotTraces = (path: string): Effect.Effect<ReadonlyArray<SpotTrace>, InvalidInput, FileSystem.FileSystem> =>
  Effect.flatMap(
    readTraceTexts(path).pipe(
      Effect.mapError((error) => new InvalidInput({ source: "--spot-traces", issues: error.issues.map((i) => ({ ...i, path: i.path.replace("--trace", "--spot-traces") })) }))
    ),
    decodeTraceFiles
  )

/** `--infra`, else FRUGAL_INFRA, else $XDG_CONFIG_HOME/frugal/infra.yaml (~/.config when unset). */
export const readInfra = (flag: Option.Option<string>): Effect.Effect<ServiceInfra, InvalidInput, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const env = process.env
    const fromEnv = env["FRUGAL_INFRA"]
    const configHome = env["XDG_CONFIG_HOME"] ?? (env["HOME"] === undefined ? undefined : `${env["HOME"]}/.config`)
    const [source, path] = Option.isSome(flag)
      ? ["--infra", flag.value]
      : fromEnv !== undefined && fromEnv !== ""
      ? ["FRUGAL_INFRA", fromEnv]
      : ["--infra", configHome === undefined ? "" : `${configHome}/frugal/infra.yaml`]
    if (path === "") return yield* invalid("--infra", "an infrastructure profile (--infra FILE or FRUGAL_INFRA)")
    const text = yield* readText(source, path, "a readable infrastructure profile (--infra FILE, FRUGAL_INFRA or $XDG_CONFIG_HOME/frugal/infra.yaml)")
    return yield* decodeServiceInfra(text, path)
  })

/** The catalog of `--catalog`; a catalog that fails to answer is a remote failure (exit 4). */
export const loadCatalog = (choice: string): Effect.Effect<Catalog, InvalidInput | RemoteServiceFailure> =>
  Effect.gen(function*() {
    const prices = yield* PriceCatalog
    return yield* prices.catalog().pipe(
      Effect.mapError((error) => new RemoteServiceFailure({ service: "price catalog", operation: "catalog", detail: error.detail }))
    )
  }).pipe(Effect.provide(catalogLayer(choice)))
