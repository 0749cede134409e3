/**
 * EC2 `DescribeInstanceTypes` → Frugal's `InstanceType`, with AWS's GPU name mapped onto the canonical
 * accelerator names. Pure. AWS names a GPU by family (`A100`, `V100`); the variant follows from the
 * memory per GPU (A100 40 vs 80 GB, V100 16 vs 32 GB).
 */
import { canonicalAcceleratorName, type InstanceType } from "@frugal/core"

/** The fields of EC2's `InstanceTypeInfo` this module reads (the SDK's type is wider). */
export interface Ec2InstanceTypeInfo {
  readonly InstanceType?: string | undefined
  readonly VCpuInfo?: { readonly DefaultVCpus?: number | undefined } | undefined
  readonly MemoryInfo?: { readonly SizeInMiB?: number | undefined } | undefined
  readonly ProcessorInfo?: { readonly SupportedArchitectures?: ReadonlyArray<string> | undefined } | undefined
  readonly GpuInfo?: {
    readonly Gpus?: ReadonlyArray<{
      readonly Name?: string | undefined
      readonly Manufacturer?: string | undefined
      readonly Count?: number | undefined
      readonly MemoryInfo?: { readonly SizeInMiB?: number | undefined } | undefined
    }> | undefined
  } | undefined
}

/** Canonical name of an AWS GPU name with `memoryGiB` per GPU, or undefined if Frugal does not know it. */
export const canonicalGpuName = (awsName: string, memoryGiB: number): string | undefined => {
  const lower = awsName.trim().toLowerCase()
  if (lower === "a100") return memoryGiB > 60 ? "A100-80GB" : "A100-40GB"
  if (lower === "v100") return memoryGiB > 20 ? "V100-32GB" : "V100"
  return canonicalAcceleratorName(awsName) ?? canonicalAcceleratorName(awsName.replace(/\s+/g, ""))
}

export const toInstanceType = (info: Ec2InstanceTypeInfo): InstanceType | undefined => {
  const gpu = info.GpuInfo?.Gpus?.[0]
  const name = info.InstanceType
  if (gpu === undefined || name === undefined || gpu.Name === undefined) return undefined
  const count = gpu.Count ?? 0
  const memoryGiB = (gpu.MemoryInfo?.SizeInMiB ?? 0) / 1024
  const accelerator = canonicalGpuName(gpu.Name, memoryGiB)
  if (accelerator === undefined || count <= 0) return undefined
  const architectures = info.ProcessorInfo?.SupportedArchitectures ?? []
  return {
    name,
    accelerator,
    acceleratorCount: count,
    acceleratorMemoryGiB: memoryGiB,
    vcpus: info.VCpuInfo?.DefaultVCpus ?? 0,
    memoryGiB: (info.MemoryInfo?.SizeInMiB ?? 0) / 1024,
    arch: architectures.includes("arm64") && !architectures.includes("x86_64") ? "arm64" : "x86_64"
  }
}
