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
 * Bytes one transformer layer saves for its backward pass when trained with autocast (the reference trainer: GPT
 * blocks, pre-LayerNorm, GELU MLP of 4h, no dropout), counted tensor by tensor from what each op keeps:
 * - attention: the QKV matmul's input (v), Q, K and V (3v), the fused kernel's output (v) and the output
 *   projection's input (v), a contiguous copy of it: 6v with fused attention, 5v without (the unfused path keeps the
 *   score matrices instead: the fp32 softmax output, 4·a·s², plus, under autocast, its 16-bit copy for the AV
 *   product, 2·a·s²);
 * - MLP: the first matmul's input (v), the GELU's input (4v) and the second matmul's input (4v): 9v;
 * - the two LayerNorms' inputs, which are the residual stream: 2r.
 * v is the compute dtype's size (2 in bf16/fp16/fp8, 4 in fp32/tf32). r is 4 under mixed precision with fp32 master
 * weights: the token embedding is fp32, autocast leaves the embedding and the residual adds in fp32, and LayerNorm runs
 * in fp32. A LoRA base stored in 16 bits keeps a 16-bit residual stream (r = v). So 38·s·b·h in bf16, 68 in fp32.
 * Korthikanti et al. 2022 count 34 for pure 16-bit training with dropout (two 1-byte masks per layer, 16-bit norms):
 * 34 − 2 (masks) + 2 (the fused kernel's saved output) + 4 (fp32 norms) = 38.
 */
export const savedActivationBytesPerLayer = (options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly hiddenSize: number
  readonly heads: number
  readonly fusedAttention: boolean
  readonly precision: Precision
  /** Bytes per value of the residual stream; default: 4 (fp32, as mixed precision with fp32 master weights keeps it). */
  readonly residualBytes?: number | undefined
}): number => {
  const { sequenceLength: s, microBatchSize: b, hiddenSize: h, heads: a } = options
  const v = computeBytes(options.precision)
  const r = options.residualBytes ?? 4
  const attention = options.fusedAttention ? 6 * v : 5 * v
  const mlp = 9 * v
  const norms = 2 * r
  const scores = options.fusedAttention ? 0 : a * s * s * b * (4 + (v < 4 ? 2 : 0))
  return s * b * h * (attention + mlp + norms) + scores
}

/** Bytes of one value in the dtype matmuls run in: 16-bit under autocast (fp8 keeps 16-bit activations), else 4. */
export const computeBytes = (precision: Precision): number => (isMixedPrecision(precision) ? 2 : 4)

/**
 * Activations one micro-batch keeps at the end of its forward pass: every layer's saved tensors, or with full
 * activation checkpointing only each layer's input (the residual stream, r bytes per value; Korthikanti et al. §5),
 * plus what the output layers keep: the final LayerNorm's input (r) and the head's input (v). During backward, a
 * checkpointed model recomputes one layer at a time (`recomputedLayerBytes`).
 */
export const activationBytes = (shape: ModelShape, options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly fusedAttention: boolean
  readonly activationCheckpointing: boolean
  readonly precision: Precision
  readonly residualBytes?: number | undefined
}): number => {
  const sbh = options.sequenceLength * options.microBatchSize * shape.hiddenSize
  const r = options.residualBytes ?? 4
  const perLayer = options.activationCheckpointing
    ? sbh * r
    : savedActivationBytesPerLayer({ ...options, hiddenSize: shape.hiddenSize, heads: shape.heads })
  return shape.layers * perLayer + sbh * (r + computeBytes(options.precision))
}

/** The one layer a checkpointed model holds in full while recomputing it during backward (0 without checkpointing). */
export const recomputedLayerBytes = (shape: ModelShape, options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly fusedAttention: boolean
  readonly activationCheckpointing: boolean
  readonly precision: Precision
  readonly residualBytes?: number | undefined
}): number =>
  options.activationCheckpointing
    ? savedActivationBytesPerLayer({ ...options, hiddenSize: shape.hiddenSize, heads: shape.heads })
    : 0

/**
 * The loss's buffers over the b·s·V logits at their peak, the first step of backward: the fp32 log-softmax output
 * that cross-entropy saves (4 bytes per logit), the gradient arriving at it (4) and the gradient it produces (4):
 * 12 bytes per logit in any precision. The 16-bit logits and their fp32 copy of the forward pass (6 bytes, or 4 in
 * fp32) are freed by then: the loss is computed on fp32 logits, as the reference trainer does.
 */
export const logitsBytes = (options: {
  readonly sequenceLength: number
  readonly microBatchSize: number
  readonly vocabSize: number
}): number => options.sequenceLength * options.microBatchSize * options.vocabSize * LOSS_BYTES_PER_LOGIT

export const LOSS_BYTES_PER_LOGIT = 12

/**
 * KV cache of a served model: keys and values of every layer, 2·L·h values per token in the serving dtype
 * (fp8 serving keeps an fp8 cache), scaled by kvHeads/heads for grouped-query attention (Ainslie et al. 2023,
 * "GQA"; LLaMA 3 8B keeps 8 of 32 heads, a quarter of the multi-head cache). Without `kvHeads` in the spec the
 * shape carries kvHeads = heads: the conservative multi-head figure.
 */
export const kvCacheBytesPerToken = (shape: ModelShape, precision: Precision): number =>
  (2 * shape.layers * shape.hiddenSize * shape.kvHeads * bytesPerValue(precision)) / shape.heads

/** What the optimizer trains and what stays frozen (LoRA/QLoRA); a full fine-tune trains every parameter. */
export interface TrainedParameters {
  /** Parameters the optimizer updates: all of them, or the adapters. */
  readonly trainable: number
  /** Bytes of the frozen weights as stored (a LoRA base in 16 bits, a QLoRA base in NF4); 0 for a full fine-tune. */
  readonly frozenBytes: number
  /** Bytes per value of the residual stream: 4 with fp32 master weights, the base's 2 when it is stored in 16 bits. */
  readonly residualBytes: number
  /**
   * Bytes of each trained parameter and of its gradient: 4 (fp32 master weights under autocast), or 2 where the
   * trained weights are kept in the 16-bit compute dtype (QLoRA's adapters), which then need no autocast copy.
   */
  readonly trainableBytes: number
}

/** Per-GPU bytes of the training state, split by when each exists during a step. */
export interface ShardedState {
  /** Stored weights: fp32 master weights of what is trained, plus the frozen base. */
  readonly weightsBytes: number
  /**
   * Full-size weights the forward pass holds until backward has used them: autocast's 16-bit copies of the trained
   * matmul weights (the token embedding is looked up, not cast), or FSDP's gathered units.
   */
  readonly forwardWeightBytes: number
  /** `.grad` of the trained parameters, after sharding: they exist from backward to the optimizer step. */
  readonly gradientsBytes: number
  /** DDP's all-reduce buckets (`gradient_as_bucket_view=False`, the default): a second gradient copy, kept for good. */
  readonly gradientBucketsBytes: number
  readonly optimizerBytes: number
}

/**
 * ZeRO-1 partitions optimizer states across the N data-parallel ranks, ZeRO-2 also gradients, ZeRO-3/FSDP also the
 * parameters (Rajbhandari et al. 2020, §5): each rank then holds 1/N of all three, plus the full low-precision
 * parameters of the unit being computed and of the one prefetched (two layers' worth).
 */
export const shardedTrainingState = (options: {
  readonly shape: ModelShape
  readonly optimizer: Optimizer
  readonly precision: Precision
  readonly sharding: Sharding
  readonly gpus: number
  /** Default: a full fine-tune. */
  readonly trained?: TrainedParameters | undefined
}): ShardedState => {
  const { shape, sharding, gpus } = options
  const n = Math.max(1, gpus)
  const p = options.trained?.trainable ?? shape.parameters
  const frozen = options.trained?.frozenBytes ?? 0
  const fp32State = trainingStateBytesPerParameter(options.optimizer, shape.hiddenSize)
  const trainableBytes = options.trained?.trainableBytes ?? fp32State.weights
  const state = { ...fp32State, weights: trainableBytes, gradients: trainableBytes }
  const fullFineTune = options.trained === undefined || options.trained.frozenBytes === 0
  // The token embedding is a lookup, never cast; adapters are all matmul weights; 16-bit weights need no copy.
  const castable = trainableBytes < 4 ? 0 : fullFineTune ? Math.max(0, p - shape.vocabSize * shape.hiddenSize) : p
  const copies = castable * autocastWeightCopyBytesPerParameter(options.precision)
  const buckets = n > 1 && (sharding === "none" || sharding === "zero1") ? p * state.gradients : 0
  // FSDP gathers full parameters in the compute dtype (its MixedPrecision param_dtype), one unit plus one prefetched.
  const gatherBytes = Math.max(autocastWeightCopyBytesPerParameter(options.precision), bytesPerValue(options.precision))
  const gathered = Math.min(2 * 12 * shape.hiddenSize * shape.hiddenSize * gatherBytes, shape.parameters * gatherBytes)
  const weights = p * state.weights + frozen
  switch (sharding) {
    case "none":
      return { weightsBytes: weights, forwardWeightBytes: copies, gradientsBytes: p * state.gradients, gradientBucketsBytes: buckets, optimizerBytes: p * state.optimizer }
    case "zero1":
      return { weightsBytes: weights, forwardWeightBytes: copies, gradientsBytes: p * state.gradients, gradientBucketsBytes: buckets, optimizerBytes: (p * state.optimizer) / n }
    case "zero2":
      return { weightsBytes: weights, forwardWeightBytes: copies, gradientsBytes: (p * state.gradients) / n, gradientBucketsBytes: 0, optimizerBytes: (p * state.optimizer) / n }
    case "fsdp":
      return {
        weightsBytes: weights / n,
        forwardWeightBytes: n > 1 ? gathered : copies,
        gradientsBytes: (p * state.gradients) / n,
        gradientBucketsBytes: 0,
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
