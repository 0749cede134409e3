/**
 * The EC2 calls behind the live catalog, one region at a time: zones (names ↔ IDs), GPU instance types,
 * spot price history and spot placement scores.
 */
import {
  DescribeAvailabilityZonesCommand,
  type DescribeInstanceTypesCommandOutput,
  type DescribeSpotPriceHistoryCommandOutput,
  type GetSpotPlacementScoresCommandOutput,
  paginateDescribeInstanceTypes,
  paginateDescribeSpotPriceHistory,
  paginateGetSpotPlacementScores
} from "@aws-sdk/client-ec2"
import { Effect, Stream } from "effect"
import type { InstanceType } from "@frugal/core"
import { AwsClients } from "./AwsClients.ts"
import { awsCall, type AwsCallFailed, awsPages } from "./AwsCall.ts"
import { toInstanceType } from "./GpuInstanceType.ts"
import type { PlacementScore, SpotMarket, Zone } from "./MarketData.ts"
import { type SpotPricePoint, summarizeSpotHistory } from "./SpotHistory.ts"

/** Instance-type name patterns of the accelerator families (EC2 filters accept `*` wildcards). */
export const GPU_INSTANCE_TYPE_PATTERNS = ["p*", "g*"]

const tokenOptions = (startingToken: string | undefined) => (startingToken === undefined ? {} : { startingToken })

export const fetchZones = (region: string): Effect.Effect<ReadonlyArray<Zone>, AwsCallFailed, AwsClients> =>
  Effect.gen(function*() {
    const client = (yield* AwsClients).ec2(region)
    const output = yield* awsCall(
      { service: "EC2", operation: "DescribeAvailabilityZones", region },
      (abortSignal) => client.send(new DescribeAvailabilityZonesCommand({ AllAvailabilityZones: false }), { abortSignal })
    )
    return (output.AvailabilityZones ?? []).flatMap((zone) =>
      zone.ZoneName !== undefined && zone.ZoneId !== undefined ? [{ name: zone.ZoneName, id: zone.ZoneId }] : []
    )
  })

export const fetchGpuInstanceTypes = (region: string): Effect.Effect<ReadonlyArray<InstanceType>, AwsCallFailed, AwsClients> =>
  Effect.gen(function*() {
    const client = (yield* AwsClients).ec2(region)
    const pages = yield* awsPages(
      { service: "EC2", operation: "DescribeInstanceTypes", region },
      (startingToken, abortSignal) =>
        paginateDescribeInstanceTypes(
          { client, ...tokenOptions(startingToken) },
          { Filters: [{ Name: "instance-type", Values: GPU_INSTANCE_TYPE_PATTERNS }] },
          { abortSignal }
        ),
      (page: DescribeInstanceTypesCommandOutput) => page.NextToken
    ).pipe(Stream.runCollect)
    return pages.flatMap((page) => (page.InstanceTypes ?? []).flatMap((info) => toInstanceType(info) ?? []))
  })

/** Linux/UNIX spot prices of GPU types over the last `hours`, summarized per type and AZ. */
export const fetchSpotMarket = (
  region: string,
  hours: number,
  now: Date,
  zones: ReadonlyArray<Zone>
): Effect.Effect<ReadonlyArray<SpotMarket>, AwsCallFailed, AwsClients> =>
  Effect.gen(function*() {
    const client = (yield* AwsClients).ec2(region)
    const start = new Date(now.getTime() - hours * 3_600_000)
    const pages = yield* awsPages(
      { service: "EC2", operation: "DescribeSpotPriceHistory", region },
      (startingToken, abortSignal) =>
        paginateDescribeSpotPriceHistory(
          { client, pageSize: 1000, ...tokenOptions(startingToken) },
          {
            StartTime: start,
            EndTime: now,
            ProductDescriptions: ["Linux/UNIX"],
            Filters: [{ Name: "instance-type", Values: GPU_INSTANCE_TYPE_PATTERNS }]
          },
          { abortSignal }
        ),
      (page: DescribeSpotPriceHistoryCommandOutput) => page.NextToken
    ).pipe(Stream.runCollect)
    const points: Array<SpotPricePoint> = []
    for (const page of pages) {
      for (const price of page.SpotPriceHistory ?? []) {
        const value = Number(price.SpotPrice)
        if (
          price.InstanceType === undefined || price.AvailabilityZone === undefined || price.Timestamp === undefined ||
          !Number.isFinite(value) || value <= 0
        ) continue
        points.push({
          instanceType: price.InstanceType,
          availabilityZone: price.AvailabilityZone,
          availabilityZoneId: price.AvailabilityZoneId,
          priceUsd: value,
          at: price.Timestamp
        })
      }
    }
    return summarizeSpotHistory(points, new Map(zones.map((zone) => [zone.name, zone.id])), now)
  })

/**
 * Spot placement scores (1–10: how likely a request for one instance of the type succeeds) per AZ, one
 * request per instance type so each type gets its own score. AWS limits how many distinct configurations
 * an account may query a day (docs/aws-catalog.md), which is why scores are cached separately.
 */
export const fetchPlacementScores = (
  region: string,
  instanceTypes: ReadonlyArray<string>,
  concurrency: number
): Effect.Effect<ReadonlyArray<PlacementScore>, AwsCallFailed, AwsClients> =>
  Effect.gen(function*() {
    const client = (yield* AwsClients).ec2(region)
    const perType = yield* Effect.forEach(instanceTypes, (instanceType) =>
      awsPages(
        { service: "EC2", operation: "GetSpotPlacementScores", region },
        (startingToken, abortSignal) =>
          paginateGetSpotPlacementScores(
            { client, ...tokenOptions(startingToken) },
            {
              InstanceTypes: [instanceType],
              TargetCapacity: 1,
              TargetCapacityUnitType: "units",
              SingleAvailabilityZone: true,
              RegionNames: [region]
            },
            { abortSignal }
          ),
        (page: GetSpotPlacementScoresCommandOutput) => page.NextToken
      ).pipe(
        Stream.runCollect,
        Effect.map((pages) =>
          pages.flatMap((page) =>
            (page.SpotPlacementScores ?? []).flatMap((score) =>
              score.AvailabilityZoneId !== undefined && score.Score !== undefined &&
                (score.Region === undefined || score.Region === region)
                ? [{ instanceType, availabilityZoneId: score.AvailabilityZoneId, score: score.Score }]
                : []
            )
          )
        )
      ), { concurrency })
    return perType.flat()
  })
