export * from "./KubernetesConfig.ts"
export * as KubernetesRunner from "./KubernetesRunner.ts"
export * from "./Manifests.ts"
export * from "./KubernetesEngine.ts"
