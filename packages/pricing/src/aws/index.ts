/**
 * `@frugal/pricing/aws`: the live AWS catalog. A separate entry point so that importing `@frugal/pricing`
 * (the embedded catalog, on every `frugal plan`) never loads the AWS SDK.
 */
export * from "./AwsCall.ts"
export * as AwsCatalog from "./AwsCatalog.ts"
export * from "./AwsClients.ts"
export * from "./MarketData.ts"
export * from "./MarketRefresh.ts"
export { describeSource } from "./AwsCatalog.ts"
export * from "./ServiceQuotas.ts"
