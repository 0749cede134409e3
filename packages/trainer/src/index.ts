export * from "./protocol.ts"
export * from "./FindPython.ts"
export * from "./ReferenceTrainer.ts"
