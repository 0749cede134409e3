/**
 * A fake AWS for the live catalog's tests: one loopback server answering the Pricing API (awsJson1_1),
 * the savings-plan price-list file download, EC2 (query protocol, XML) and Service Quotas' GetServiceQuota
 * (awsJson1_1), from a mutable market description. Fixtures follow AWS's documented shapes, with real GPU SKUs and
 * list prices.
 */
import { awsJsonError, awsJsonHandler, throttlingException } from "../../../../test/support/aws/AwsJson.ts"
import { ec2Error, ec2QueryHandler, isEc2Query, requestLimitExceeded, type XmlValue } from "../../../../test/support/aws/Ec2Query.ts"
import {
  type LoopbackRequest,
  type LoopbackResponse,
  type LoopbackServer,
  startLoopbackServer
} from "../../../../test/support/aws/LoopbackServer.ts"

export interface ReservedFixture {
  readonly years: 1 | 3
  readonly offeringClass: "standard" | "convertible"
  readonly payment: "No Upfront" | "Partial Upfront" | "All Upfront"
  readonly upfrontUsd: number
  readonly hourlyUsd: number
}

export interface ProductFixture {
  readonly instanceType: string
  readonly onDemandUsd: number
  readonly reserved?: ReadonlyArray<ReservedFixture>
  readonly operatingSystem?: string
  readonly marketOption?: string
  readonly usageTypePrefix?: string
}

export interface InstanceTypeFixture {
  readonly name: string
  readonly vcpus: number
  readonly memoryMiB: number
  readonly gpuName: string
  readonly gpuCount: number
  readonly gpuMemoryMiB: number
}

export interface SpotPointFixture {
  readonly instanceType: string
  readonly zone: string
  readonly priceUsd: number
  readonly at: string
}

export interface RegionFixture {
  /** Price-list items: fixtures, or raw strings (to send malformed JSON). */
  products: Array<ProductFixture | string>
  zones: Array<{ readonly name: string; readonly id: string }>
  instanceTypes: Array<InstanceTypeFixture>
  spot: Array<SpotPointFixture>
  scores: Array<{ readonly instanceType: string; readonly zoneId: string; readonly score: number }>
  savingsPlans: Array<{ readonly instanceType: string; readonly years: 1 | 3; readonly payment: string; readonly rateUsd: number }>
  /** Service Quotas: EC2 quota code → vCPUs (`GetServiceQuota`); a code not here answers NoSuchResourceException. */
  quotas?: Record<string, number>
}

/** Real instance specs (EC2 DescribeInstanceTypes). */
export const INSTANCE_TYPES: Readonly<Record<string, InstanceTypeFixture>> = {
  "p5.48xlarge": { name: "p5.48xlarge", vcpus: 192, memoryMiB: 2097152, gpuName: "H100", gpuCount: 8, gpuMemoryMiB: 81920 },
  "p4d.24xlarge": { name: "p4d.24xlarge", vcpus: 96, memoryMiB: 1179648, gpuName: "A100", gpuCount: 8, gpuMemoryMiB: 40960 },
  "g5.xlarge": { name: "g5.xlarge", vcpus: 4, memoryMiB: 16384, gpuName: "A10G", gpuCount: 1, gpuMemoryMiB: 24576 },
  "g6e.xlarge": { name: "g6e.xlarge", vcpus: 4, memoryMiB: 32768, gpuName: "L40S", gpuCount: 1, gpuMemoryMiB: 46068 },
  "g6.xlarge": { name: "g6.xlarge", vcpus: 4, memoryMiB: 16384, gpuName: "L4", gpuCount: 1, gpuMemoryMiB: 23034 }
}

/** us-east-1 Linux on-demand list prices (USD per instance-hour). */
export const ON_DEMAND_USD: Readonly<Record<string, number>> = {
  "p5.48xlarge": 55.04,
  "p4d.24xlarge": 21.9576,
  "g5.xlarge": 1.006,
  "g6e.xlarge": 1.861,
  "g6.xlarge": 0.8048
}

const zonePrefix = (region: string): string => {
  const [area = "xx", direction = "x", number = "1"] = region.split("-")
  return `${area.slice(0, 2)}${direction.slice(0, 1)}${number}`
}

/** A region with the five GPU types, three zones, a day of spot history, scores and savings plans. */
export const standardRegion = (region: string, priceFactor = 1, now = new Date("2026-11-23T06:00:00Z")): RegionFixture => {
  const zones = ["a", "b", "c"].map((letter, index) => ({ name: `${region}${letter}`, id: `${zonePrefix(region)}-az${index + 1}` }))
  const types = Object.values(INSTANCE_TYPES)
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000).toISOString()
  return {
    products: types.map((type): ProductFixture => {
      const onDemandUsd = round4((ON_DEMAND_USD[type.name] ?? 1) * priceFactor)
      return {
        instanceType: type.name,
        onDemandUsd,
        reserved: [
          { years: 1, offeringClass: "standard", payment: "No Upfront", upfrontUsd: 0, hourlyUsd: round4(onDemandUsd * 0.64) },
          { years: 1, offeringClass: "standard", payment: "All Upfront", upfrontUsd: Math.round(onDemandUsd * 0.6 * 8760), hourlyUsd: 0 },
          { years: 3, offeringClass: "convertible", payment: "Partial Upfront", upfrontUsd: Math.round(onDemandUsd * 0.25 * 26280), hourlyUsd: round4(onDemandUsd * 0.2) }
        ]
      }
    }),
    zones,
    instanceTypes: types,
    spot: types.flatMap((type) =>
      zones.flatMap((zone, index) => {
        const base = (ON_DEMAND_USD[type.name] ?? 1) * priceFactor * (0.3 + 0.05 * index)
        return [
          { instanceType: type.name, zone: zone.name, priceUsd: round4(base * 1.2), at: hoursAgo(20) },
          { instanceType: type.name, zone: zone.name, priceUsd: round4(base), at: hoursAgo(2) }
        ]
      })
    ),
    scores: types.flatMap((type) => zones.map((zone, index) => ({ instanceType: type.name, zoneId: zone.id, score: 9 - 3 * index }))),
    savingsPlans: types.flatMap((type) => [
      { instanceType: type.name, years: 1 as const, payment: "No Upfront", rateUsd: round4((ON_DEMAND_USD[type.name] ?? 1) * priceFactor * 0.72) },
      { instanceType: type.name, years: 3 as const, payment: "All Upfront", rateUsd: round4((ON_DEMAND_USD[type.name] ?? 1) * priceFactor * 0.45) }
    ])
  }
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000

const sku = (text: string): string => {
  let hash = 0
  for (const char of text) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0
  return hash.toString(36).toUpperCase().padStart(8, "X").slice(0, 8) + "QWERTYZK".slice(0, 8)
}

/** One `PriceList` entry as AWS sends it: the product JSON serialized to a string. */
export const priceListItem = (region: string, product: ProductFixture): string => {
  const productSku = sku(`${region}/${product.instanceType}/${product.operatingSystem ?? "Linux"}/${product.marketOption ?? "OnDemand"}`)
  const onDemandCode = "JRTCKXETXF"
  const reserved: Record<string, unknown> = {}
  for (const term of product.reserved ?? []) {
    const code = sku(`${productSku}/${term.years}/${term.offeringClass}/${term.payment}`)
    const dimensions: Record<string, unknown> = {
      [`${productSku}.${code}.6YS6EN2CT7`]: {
        unit: "Hrs",
        endRange: "Inf",
        description: `Linux/UNIX (Amazon VPC), ${product.instanceType} reserved instance applied`,
        appliesTo: [],
        rateCode: `${productSku}.${code}.6YS6EN2CT7`,
        beginRange: "0",
        pricePerUnit: { USD: term.hourlyUsd.toFixed(10) }
      }
    }
    if (term.payment !== "No Upfront") {
      dimensions[`${productSku}.${code}.2TG2D8R56U`] = {
        unit: "Quantity",
        description: "Upfront Fee",
        appliesTo: [],
        rateCode: `${productSku}.${code}.2TG2D8R56U`,
        pricePerUnit: { USD: String(term.upfrontUsd) }
      }
    }
    reserved[`${productSku}.${code}`] = {
      priceDimensions: dimensions,
      sku: productSku,
      effectiveDate: "2026-11-01T00:00:00Z",
      offerTermCode: code,
      termAttributes: { LeaseContractLength: `${term.years}yr`, OfferingClass: term.offeringClass, PurchaseOption: term.payment }
    }
  }
  const type = INSTANCE_TYPES[product.instanceType]
  return JSON.stringify({
    product: {
      productFamily: "Compute Instance",
      attributes: {
        instanceType: product.instanceType,
        instanceFamily: "GPU instance",
        regionCode: region,
        location: "US East (N. Virginia)",
        operatingSystem: product.operatingSystem ?? "Linux",
        tenancy: "Shared",
        preInstalledSw: "NA",
        capacitystatus: "Used",
        marketoption: product.marketOption ?? "OnDemand",
        usagetype: `${product.usageTypePrefix ?? "BoxUsage"}:${product.instanceType}`,
        operation: "RunInstances",
        vcpu: String(type?.vcpus ?? 4),
        memory: `${(type?.memoryMiB ?? 16384) / 1024} GiB`,
        gpu: String(type?.gpuCount ?? 1),
        gpuMemory: `${Math.round(((type?.gpuMemoryMiB ?? 24576) * (type?.gpuCount ?? 1)) / 1024)} GB`,
        servicecode: "AmazonEC2"
      },
      sku: productSku
    },
    serviceCode: "AmazonEC2",
    terms: {
      OnDemand: {
        [`${productSku}.${onDemandCode}`]: {
          priceDimensions: {
            [`${productSku}.${onDemandCode}.6YS6EN2CT7`]: {
              unit: "Hrs",
              endRange: "Inf",
              description: `$${product.onDemandUsd} per On Demand Linux ${product.instanceType} Instance Hour`,
              appliesTo: [],
              rateCode: `${productSku}.${onDemandCode}.6YS6EN2CT7`,
              beginRange: "0",
              pricePerUnit: { USD: product.onDemandUsd.toFixed(10) }
            }
          },
          sku: productSku,
          effectiveDate: "2026-11-01T00:00:00Z",
          offerTermCode: onDemandCode,
          termAttributes: {}
        }
      },
      ...(product.reserved === undefined ? {} : { Reserved: reserved })
    },
    version: "20261120000000",
    publicationDate: "2026-11-20T00:00:00Z"
  })
}

/** The Compute Savings Plans price-list file of a region (AWS Billing guide, JSON layout). */
export const savingsPlanFile = (region: string, rates: RegionFixture["savingsPlans"]): string => {
  const plans = new Map<string, { years: 1 | 3; payment: string }>()
  for (const rate of rates) plans.set(`${rate.years}/${rate.payment}`, { years: rate.years, payment: rate.payment })
  return JSON.stringify({
    version: "20261120000000",
    publicationDate: "2026-11-20T00:00:00Z",
    regionCode: region,
    products: [...plans.entries()].map(([key, plan]) => ({
      sku: sku(`sp/${key}`),
      productFamily: "ComputeSavingsPlans",
      serviceCode: "ComputeSavingsPlans",
      usageType: `ComputeSP:${plan.years}yr${plan.payment.replace(/ /g, "")}`,
      operation: "",
      attributes: { purchaseOption: plan.payment, granularity: "hourly", purchaseTerm: `${plan.years}yr`, locationType: "AWS Region", location: "Any" }
    })),
    terms: {
      savingsPlan: [...plans.entries()].map(([key, plan]) => ({
        sku: sku(`sp/${key}`),
        description: `${plan.years} year ${plan.payment} Compute Savings Plan`,
        effectiveDate: "2026-11-20T00:00:00Z",
        leaseContractLength: { duration: plan.years, unit: "year" },
        rates: rates.filter((rate) => rate.years === plan.years && rate.payment === plan.payment).flatMap((rate) => [
          {
            discountedSku: sku(`${region}/${rate.instanceType}`),
            discountedUsageType: `BoxUsage:${rate.instanceType}`,
            discountedOperation: "RunInstances",
            discountedServiceCode: "AmazonEC2",
            rateCode: `${sku(`sp/${key}`)}.${sku(rate.instanceType)}`,
            unit: "Hrs",
            discountedRate: { price: String(rate.rateUsd), currency: "USD" },
            discountedRegionCode: region,
            discountedInstanceType: rate.instanceType
          },
          // Windows rates share the file; they must be ignored.
          {
            discountedSku: sku(`${region}/${rate.instanceType}/win`),
            discountedUsageType: `BoxUsage:${rate.instanceType}`,
            discountedOperation: "RunInstances:0002",
            discountedServiceCode: "AmazonEC2",
            rateCode: `${sku(`sp/${key}`)}.${sku(`${rate.instanceType}w`)}`,
            unit: "Hrs",
            discountedRate: { price: String(rate.rateUsd * 2), currency: "USD" },
            discountedRegionCode: region,
            discountedInstanceType: rate.instanceType
          }
        ])
      }))
    }
  })
}

/** The region a SigV4-signed request was signed for (`Credential=AKID/20261123/us-east-1/ec2/aws4_request`). */
export const signedRegion = (request: LoopbackRequest): string | undefined => {
  const header = request.headers["authorization"]
  const value = Array.isArray(header) ? header[0] : header
  return value === undefined ? undefined : /Credential=[^/]+\/[0-9]+\/([^/]+)\//.exec(value)?.[1]
}

export interface FakeAwsOptions {
  /** Items per GetProducts page (the fake honours MaxResults when smaller). */
  readonly productPageSize?: number
  readonly spotPageSize?: number
  /** Called before a request is answered; a response returned here is sent instead. */
  readonly fault?: (request: LoopbackRequest, operation: string, region: string | undefined) => LoopbackResponse | undefined
  readonly latencyMs?: number
}

export interface FakeAws {
  readonly server: LoopbackServer
  readonly url: string
  readonly regions: Map<string, RegionFixture>
  /** Operations answered so far, e.g. `GetProducts us-east-1`. */
  readonly calls: Array<string>
  setFault(fault: FakeAwsOptions["fault"]): void
  close(): Promise<void>
}

const regionFilter = (input: Record<string, unknown>): string | undefined => {
  const filters = input["Filters"]
  if (!Array.isArray(filters)) return undefined
  for (const filter of filters) {
    if (typeof filter === "object" && filter !== null && Reflect.get(filter, "Field") === "regionCode") {
      const value: unknown = Reflect.get(filter, "Value")
      return typeof value === "string" ? value : undefined
    }
  }
  return undefined
}

export const startFakeAws = async (regions: Map<string, RegionFixture>, options: FakeAwsOptions = {}): Promise<FakeAws> => {
  let fault = options.fault
  const calls: Array<string> = []
  const productPageSize = options.productPageSize ?? 2
  const spotPageSize = options.spotPageSize ?? 7
  let baseUrl = ""

  const pricing = awsJsonHandler("AWSPriceListService", {
    GetProducts: (input) => {
      const region = regionFilter(input) ?? ""
      const fixture = regions.get(region)
      const items = (fixture?.products ?? []).map((product) => typeof product === "string" ? product : priceListItem(region, product))
      const start = Number(input["NextToken"] ?? 0)
      const maxResults = typeof input["MaxResults"] === "number" ? input["MaxResults"] : 100
      const size = Math.min(productPageSize, maxResults)
      const page = items.slice(start, start + size)
      return {
        FormatVersion: "aws_v1",
        PriceList: page,
        ...(start + size < items.length ? { NextToken: String(start + size) } : {})
      }
    },
    ListPriceLists: (input) => {
      const region = typeof input["RegionCode"] === "string" ? input["RegionCode"] : ""
      if (input["ServiceCode"] !== "AWSComputeSavingsPlan") return awsJsonError("NotFoundException", "no such service")
      if (!regions.has(region)) return { PriceLists: [] }
      return {
        PriceLists: [{
          PriceListArn: `arn:aws:pricing:::price-list/aws/AWSComputeSavingsPlan/USD/20261120000000/${region}`,
          RegionCode: region,
          CurrencyCode: "USD",
          FileFormats: ["json", "csv"]
        }]
      }
    },
    GetPriceListFileUrl: (input) => {
      const arn = typeof input["PriceListArn"] === "string" ? input["PriceListArn"] : ""
      const region = arn.split("/").pop() ?? ""
      return { Url: `${baseUrl}/price-lists/${region}.json?X-Amz-Signature=loopback` }
    }
  }, (request) => {
    const match = /^\/price-lists\/([a-z0-9-]+)\.json/.exec(request.url)
    const fixture = match?.[1] === undefined ? undefined : regions.get(match[1])
    if (match?.[1] === undefined || fixture === undefined) return { status: 404, body: "NoSuchKey" }
    return { status: 200, headers: { "content-type": "application/json" }, body: savingsPlanFile(match[1], fixture.savingsPlans) }
  })

  const serviceQuotas = awsJsonHandler("ServiceQuotasV20190624", {
    GetServiceQuota: (input, request) => {
      const region = signedRegion(request) ?? ""
      const code = typeof input["QuotaCode"] === "string" ? input["QuotaCode"] : ""
      if (input["ServiceCode"] !== "ec2") return awsJsonError("NoSuchResourceException", `no service ${String(input["ServiceCode"])}`)
      const value = regions.get(region)?.quotas?.[code]
      if (value === undefined) return awsJsonError("NoSuchResourceException", `no quota ${code} in ${region}`)
      return { Quota: { ServiceCode: "ec2", QuotaCode: code, QuotaName: code, Value: value, Unit: "None", Adjustable: true, GlobalQuota: false } }
    }
  })

  const item = (value: { readonly [k: string]: XmlValue }) => value
  const ec2 = ec2QueryHandler({
    DescribeAvailabilityZones: (_params, request) => {
      const fixture = regions.get(signedRegion(request) ?? "")
      return {
        availabilityZoneInfo: (fixture?.zones ?? []).map((zone) =>
          item({ zoneName: zone.name, zoneId: zone.id, zoneState: "available", regionName: signedRegion(request) ?? "", zoneType: "availability-zone" })
        )
      }
    },
    DescribeInstanceTypes: (params, request) => {
      const fixture = regions.get(signedRegion(request) ?? "")
      const all = fixture?.instanceTypes ?? []
      const start = Number(params.get("NextToken") ?? 0)
      const page = all.slice(start, start + 3)
      return {
        instanceTypeSet: page.map((type) =>
          item({
            instanceType: type.name,
            currentGeneration: true,
            vCpuInfo: { defaultVCpus: type.vcpus },
            memoryInfo: { sizeInMiB: type.memoryMiB },
            processorInfo: { supportedArchitectures: ["x86_64"] },
            gpuInfo: {
              gpus: [{ name: type.gpuName, manufacturer: "NVIDIA", count: type.gpuCount, memoryInfo: { sizeInMiB: type.gpuMemoryMiB } }],
              totalGpuMemoryInMiB: type.gpuMemoryMiB * type.gpuCount
            }
          })
        ),
        nextToken: start + 3 < all.length ? String(start + 3) : undefined
      }
    },
    DescribeSpotPriceHistory: (params, request) => {
      if (params.list("ProductDescription").join(",") !== "Linux/UNIX") return ec2Error("InvalidParameterValue", "expected Linux/UNIX")
      const fixture = regions.get(signedRegion(request) ?? "")
      const all = fixture?.spot ?? []
      const start = Number(params.get("NextToken") ?? 0)
      const page = all.slice(start, start + spotPageSize)
      return {
        spotPriceHistorySet: page.map((point) =>
          item({
            instanceType: point.instanceType,
            productDescription: "Linux/UNIX",
            spotPrice: point.priceUsd.toFixed(6),
            timestamp: point.at,
            availabilityZone: point.zone
          })
        ),
        nextToken: start + spotPageSize < all.length ? String(start + spotPageSize) : ""
      }
    },
    GetSpotPlacementScores: (params, request) => {
      const region = signedRegion(request) ?? ""
      const fixture = regions.get(region)
      const types = params.list("InstanceType")
      if (params.get("SingleAvailabilityZone") !== "true") return ec2Error("InvalidParameterValue", "expected SingleAvailabilityZone")
      return {
        spotPlacementScoreSet: (fixture?.scores ?? [])
          .filter((score) => types.includes(score.instanceType))
          .map((score) => item({ region, availabilityZoneId: score.zoneId, score: score.score }))
      }
    }
  })

  const handler = async (request: LoopbackRequest): Promise<LoopbackResponse> => {
    const ec2Call = isEc2Query(request)
    const operation = ec2Call
      ? new URLSearchParams(request.body).get("Action") ?? "?"
      : request.headers["x-amz-target"] === undefined
      ? "GET price list file"
      : String(request.headers["x-amz-target"]).split(".").pop() ?? "?"
    const quotaCall = String(request.headers["x-amz-target"] ?? "").startsWith("ServiceQuotasV20190624.")
    let region = ec2Call || quotaCall ? signedRegion(request) : undefined
    if (!ec2Call && !quotaCall && request.body.startsWith("{")) {
      const input: unknown = JSON.parse(request.body)
      if (typeof input === "object" && input !== null) {
        const record = Object.fromEntries(Object.entries(input))
        region = regionFilter(record) ?? (typeof record["RegionCode"] === "string" ? record["RegionCode"] : undefined)
      }
    }
    const injected = fault?.(request, operation, region)
    calls.push(`${operation} ${region ?? "-"}${injected === undefined ? "" : ` -> ${injected.status}`}`)
    if (injected !== undefined) return injected
    return ec2Call ? ec2(request) : quotaCall ? serviceQuotas(request) : pricing(request)
  }

  const server = await startLoopbackServer(handler, options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs })
  baseUrl = server.url
  return {
    server,
    url: server.url,
    regions,
    calls,
    setFault: (next) => {
      fault = next
    },
    close: () => server.close()
  }
}

/** The throttling answer each protocol uses: awsJson `ThrottlingException` (400), EC2 `RequestLimitExceeded` (503), S3 `SlowDown` (503). */
export const throttle = (request: LoopbackRequest): LoopbackResponse =>
  isEc2Query(request)
    ? requestLimitExceeded()
    : request.headers["x-amz-target"] !== undefined
    ? throttlingException()
    // The price-list file comes from S3, which throttles with 503 SlowDown.
    : { status: 503, headers: { "content-type": "application/xml" }, body: "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>" }

/** Points the SDK at the fake (the standard environment variables) with dummy credentials. */
export const useFakeAwsEnvironment = (url: string): void => {
  process.env["AWS_ENDPOINT_URL"] = url
  process.env["AWS_ACCESS_KEY_ID"] = "AKIDLOOPBACKTEST"
  process.env["AWS_SECRET_ACCESS_KEY"] = "loopback-secret"
  process.env["AWS_REGION"] = "us-east-1"
  delete process.env["AWS_PROFILE"]
}

/**
 * The environment a `frugal` child process needs to reach the fake at `url`: the endpoint, dummy credentials, the
 * region, two attempts per call (a fault is retried once, quickly) and no profile from the user's ~/.aws.
 */
export const fakeAwsClientEnvironment = (url: string): Record<string, string> => ({
  AWS_ENDPOINT_URL: url,
  AWS_ACCESS_KEY_ID: "AKIDLOOPBACKTEST",
  AWS_SECRET_ACCESS_KEY: "loopback-secret",
  AWS_REGION: "us-east-1",
  AWS_MAX_ATTEMPTS: "2",
  AWS_PROFILE: ""
})
