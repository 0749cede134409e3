/**
 * How much accelerator memory a workload needs: pure functions over bytes. Every formula is documented with its
 * source in docs/estimates.md. Units: bytes inside, GiB (2^30) at the edges; the `GB` of papers is decimal (10^9).
 */
import type { ModelShape } from "./ModelShape.ts"
import type { Optimizer, Precision, Sharding } from "./Workload.ts"

export const GIB = 2 ** 30
export const GB = 1e9

/** Bytes of one value stored in `precision` (TF32 is a math mode: values are stored as fp32). */
export const bytesPerValue = (precision: Precision): number => {
  switch (precision) {
    case "fp32":
    case "tf32":
      return 4
    case "bf16":
    case "fp16":
      return 2
    case "fp8":
      return 1
  }
}

/** True for precisions trained with mixed precision (low-precision compute, fp32 master weights). */
export const isMixedPrecision = (precision: Precision): boolean =>
  precision === "bf16" || precision === "fp16" || precision === "fp8"

/** Bytes per parameter of the persistent training state, before any sharding. */
export interface TrainingStateBytes {
  readonly weights: number
  readonly gradients: number
  readonly optimizer: number
}

/**
 * PyTorch AMP keeps the parameters themselves in fp32 (the "master weights", 4 bytes), their gradients in fp32
 * (4 bytes), and AdamW its two fp32 moments (8 bytes): 16 bytes per parameter, the same total as the fp16-weights +
 * fp32-master layout of the ZeRO paper (Rajbhandari et al. 2020, §3.1: 2 + 2 + 12 = 16). SGD with momentum keeps one
 * fp32 buffer; Adafactor keeps factored second moments (a row and a column vector per matrix, Shazeer & Stern 2018),
 * about 8/h bytes per parameter of an h×h matrix.
 */
export const trainingStateBytesPerParameter = (
  optimizer: Optimizer,
  hiddenSize: number
): TrainingStateBytes => ({
  weights: 4,
  gradients: 4,
  optimizer: optimizer === "adamw" ? 8 : optimizer === "sgd" ? 4 : 8 / Math.max(1, hiddenSize)
})

/**
 * Autocast casts each fp32 weight to the compute dtype for the forward pass and autograd keeps that copy until the
 * backward pass has used it, so at the peak a second, low-precision copy of every weight is alive.
 */
export const autocastWeightCopyBytesPerParameter = (precision: Precision): number =>
  isMixedPrecision(precision) ? 2 : 0

/**
 * Activation bytes one transformer layer keeps for the backward pass (Korthikanti et al. 2022, "Reducing Activation
 * Recomputation in Large Transformer Models", eq. 1): s·b·h·(34 + 5·a·s/h) with 16-bit activations. Fused attention
 * (FlashAttention, PyTorch SDPA) never materialises the a·s² score matrices, which removes the 5·a·s/h term. fp32
 * activations double everything.
 */
export const activationBytesPerLayer = (options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly hiddenSize: number
  readonly heads: number
  readonly fusedAttention: boolean
  readonly precision: Precision
}): number => {
  const { sequenceLength: s, microBatchSize: b, hiddenSize: h, heads: a } = options
  const perElement = options.fusedAttention ? 34 : 34 + (5 * a * s) / h
  return s * b * h * perElement * activationScale(options.precision)
}

const activationScale = (precision: Precision): number => (bytesPerValue(precision) >= 4 ? 2 : 1)

/**
 * All activations of one micro-batch. With full activation checkpointing only each layer's input survives the
 * forward pass (2·s·b·h bytes per layer, Korthikanti et al. §5), and one layer at a time is recomputed in full
 * during the backward pass.
 */
export const activationBytes = (shape: ModelShape, options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly fusedAttention: boolean
  readonly activationCheckpointing: boolean
  readonly precision: Precision
}): number => {
  const perLayer = activationBytesPerLayer({ ...options, hiddenSize: shape.hiddenSize, heads: shape.heads })
  if (!options.activationCheckpointing) return shape.layers * perLayer
  const layerInput = 2 * options.sequenceLength * options.microBatchSize * shape.hiddenSize *
    activationScale(options.precision)
  return shape.layers * layerInput + perLayer
}

/**
 * The output layer's logits, b·s·V values: once in the compute dtype, once in fp32 for a numerically stable
 * cross-entropy (its log-softmax output is saved for backward), and once more in fp32 for their gradient.
 */
export const logitsBytes = (options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly vocabSize: number
  readonly precision: Precision
}): number => {
  const values = options.sequenceLength * options.microBatchSize * options.vocabSize
  return values * (bytesPerValue(options.precision === "fp8" ? "bf16" : options.precision) + 4 + 4)
}

/**
 * KV cache of a served model: keys and values of every layer, 2·L·h values per token in the serving dtype
 * (fp8 serving keeps an fp8 cache), scaled by kvHeads/heads for grouped-query attention (Ainslie et al. 2023,
 * "GQA"; LLaMA 3 8B keeps 8 of 32 heads, a quarter of the multi-head cache). Without `kvHeads` in the spec the
 * shape carries kvHeads = heads: the conservative multi-head figure.
 */
export const kvCacheBytesPerToken = (shape: ModelShape, precision: Precision): number =>
  (2 * shape.layers * shape.hiddenSize * shape.kvHeads * bytesPerValue(precision)) / shape.heads

/** Sharded persistent state of one GPU: ZeRO stages (Rajbhandari et al. 2020, §5) and FSDP (= ZeRO-3). */
export interface ShardedState {
  readonly weightsBytes: number
  readonly gradientsBytes: number
  readonly optimizerBytes: number
}

/**
 * ZeRO-1 partitions optimizer states across the N data-parallel ranks, ZeRO-2 also gradients, ZeRO-3/FSDP also the
 * parameters: each rank then holds 1/N of all three, plus the full low-precision parameters of the unit being
 * computed and of the one prefetched (two layers' worth). Without gradient partitioning, PyTorch DDP copies
 * gradients into its all-reduce buckets (`gradient_as_bucket_view=False` is the default), a second gradient copy.
 */
export const shardedTrainingState = (options: {
  readonly shape: ModelShape
  readonly optimizer: Optimizer
  readonly precision: Precision
  readonly sharding: Sharding
  readonly gpus: number
}): ShardedState => {
  const { shape, sharding, gpus } = options
  const n = Math.max(1, gpus)
  const p = shape.parameters
  const state = trainingStateBytesPerParameter(options.optimizer, shape.hiddenSize)
  const copy = autocastWeightCopyBytesPerParameter(options.precision)
  const ddpBuckets = n > 1 && (sharding === "none" || sharding === "zero1") ? 2 : 1
  // FSDP gathers full parameters in the compute dtype (its MixedPrecision param_dtype), one unit plus one prefetched.
  const gatherBytes = Math.max(copy, bytesPerValue(options.precision))
  const gathered = Math.min(2 * 12 * shape.hiddenSize * shape.hiddenSize * gatherBytes, p * gatherBytes)
  switch (sharding) {
    case "none":
      return { weightsBytes: p * (state.weights + copy), gradientsBytes: p * state.gradients * ddpBuckets, optimizerBytes: p * state.optimizer }
    case "zero1":
      return { weightsBytes: p * (state.weights + copy), gradientsBytes: p * state.gradients * ddpBuckets, optimizerBytes: (p * state.optimizer) / n }
    case "zero2":
      return { weightsBytes: p * (state.weights + copy), gradientsBytes: (p * state.gradients) / n, optimizerBytes: (p * state.optimizer) / n }
    case "fsdp":
      return {
        weightsBytes: (p * state.weights) / n + (n > 1 ? gathered : p * copy),
        gradientsBytes: (p * state.gradients) / n,
        optimizerBytes: (p * state.optimizer) / n
      }
  }
}

/** CUDA context and cuBLAS/cuDNN workspaces that exist before the first tensor (measured ≈ 0.5 GiB on Hopper). */
export const CUDA_CONTEXT_GIB = 0.5
/** NCCL communicators and buffers when more than one GPU takes part. */
export const NCCL_BUFFERS_GIB = 0.5
/**
 * The caching allocator reserves more than it hands out (blocks split and freed out of order): peak reserved was
 * 1.04–1.16× peak allocated over the H100 runs in test/fixtures/gpt-peak-memory-h100.json, 1.10× on average.
 */
export const FRAGMENTATION_FRACTION = 0.1

/** What exists on a GPU beyond the tensors: context, communication buffers, allocator slack. */
export const overheadBytes = (allocatedBytes: number, gpus: number): number =>
  (CUDA_CONTEXT_GIB + (gpus > 1 ? NCCL_BUFFERS_GIB : 0)) * GIB + FRAGMENTATION_FRACTION * allocatedBytes
