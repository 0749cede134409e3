export * from "./BatchScript.ts"
export * from "./SlurmConfig.ts"
export * from "./SlurmJob.ts"
export * as SlurmRunner from "./SlurmRunner.ts"
