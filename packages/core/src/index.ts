export * from "./Errors.ts"
export * from "./Offer.ts"
