/** `@frugal/sdk/prices`: refreshing the live AWS price cache. A separate entry point because it loads the AWS SDK. */
export * from "./PriceRefresh.ts"
