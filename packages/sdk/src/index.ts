export * from "./PriceList.ts"
