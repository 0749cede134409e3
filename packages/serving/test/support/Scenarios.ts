/** Small synthetic scenarios for the simulator's tests: a service, a replica, a load and some zones. */
import type { ServiceSection } from "@frugal/core"
import type { ReplicaCapacity, ServiceScenario, SimulatedZone } from "../../src/index.ts"

export const service = (overrides: Partial<ServiceSection> = {}): ServiceSection => ({
  replicas: { min: 2, max: 20 },
  target: { requestsPerSecondPerReplica: 1 },
  scaleInBelowGpuUtilization: 0.3,
  scaleInWindowMinutes: 15,
  scaleUpDelaySeconds: 60,
  scaleDownDelaySeconds: 600,
  coldStartSeconds: 300,
  zones: { min: 2 },
  onDemandBase: 1,
  spot: true,
  ...overrides
})

/** A replica serving 2 requests per second, each lasting 4 s (8 in flight at capacity). */
export const capacity: ReplicaCapacity = {
  accelerator: "L4",
  gpusPerReplica: 1,
  decodeTokensPerSecond: 400,
  streamTokensPerSecond: 50,
  decodingRequests: 8,
  prefillSecondsPerRequest: 0.5,
  requestsPerSecond: 2,
  latencySeconds: 4,
  requestsInFlight: 8
}

export const zone = (name: string, available: ArrayLike<number>, spotPriceUsdPerHour = 0.3): SimulatedZone => ({
  name,
  region: name.replace(/[a-z]$/, ""),
  spotAvailable: Uint8Array.from(available),
  spotPriceUsdPerHour,
  onDemandPriceUsdPerHour: 1,
  priorInterruptionsPerHour: 0.03
})

export const always = (minutes: number): Uint8Array => new Uint8Array(minutes).fill(1)

/** Available except during [from, to). */
export const gap = (minutes: number, from: number, to: number): Uint8Array => {
  const out = always(minutes)
  out.fill(0, from, to)
  return out
}

export const constantLoad = (minutes: number, requestsPerMinute: number): Float64Array =>
  new Float64Array(minutes).fill(requestsPerMinute)

export const scenario = (overrides: Partial<ServiceScenario> & { readonly minutes?: number } = {}): ServiceScenario => {
  const minutes = overrides.minutes ?? 600
  return {
    service: overrides.service ?? service(),
    capacity: overrides.capacity ?? capacity,
    arrivalsPerMinute: overrides.arrivalsPerMinute ?? constantLoad(minutes, 360),
    zones: overrides.zones ?? [zone("us-east-2a", always(minutes)), zone("us-west-2a", always(minutes))]
  }
}
