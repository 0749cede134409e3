export * from "./protocol.ts"
export * from "./FindPython.ts"
