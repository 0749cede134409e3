export * from "./PriceCatalog.ts"
