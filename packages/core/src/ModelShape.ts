/**
 * The architecture of a decoder-only transformer: given where the spec says it, derived from the parameter count
 * where it does not. The derivation fits N ≈ 12·L·h² + V·h (Kaplan et al. 2020, "Scaling Laws", Table 1; the
 * embedding term for an untied output layer would double V·h, which the estimate treats as noise) with the aspect
 * ratio h = 128·L that GPT-3 175B (96 × 12288), LLaMA 7B (32 × 4096) and LLaMA 13B (40 × 5120) share.
 */

export interface ModelShape {
  readonly parameters: number
  readonly layers: number
  readonly hiddenSize: number
  readonly heads: number
  /** Key/value heads: fewer than `heads` under grouped-query attention (Ainslie et al. 2023), which shrinks the KV cache. */
  readonly kvHeads: number
  readonly vocabSize: number
  /** True when layers/hiddenSize were derived from the parameter count rather than given. */
  readonly derived: boolean
}

/** LLaMA's vocabulary; most open models of the size range Frugal plans are within 2× of it. */
export const DEFAULT_VOCAB_SIZE = 32_000
/** Hidden size per layer of the reference models (GPT-3 175B, LLaMA 7B/13B). */
export const ASPECT_RATIO = 128
const HEAD_DIM = 128

const roundTo = (value: number, multiple: number): number => Math.max(multiple, Math.round(value / multiple) * multiple)

export interface ModelSpec {
  readonly parameters: number
  readonly layers?: number | undefined
  readonly hiddenSize?: number | undefined
  readonly heads?: number | undefined
  readonly kvHeads?: number | undefined
  readonly vocabSize?: number | undefined
}

// Planning a fleet asks for the same model's shape thousands of times; decoded specs are immutable.
const cache = new WeakMap<ModelSpec, ModelShape>()

/** The shape the spec gives, with the missing parts derived (see the module comment for the rule). */
export const modelShape = (model: ModelSpec): ModelShape => {
  const cached = cache.get(model)
  if (cached !== undefined) return cached
  const shape = deriveShape(model)
  cache.set(model, shape)
  return shape
}

const deriveShape = (model: ModelSpec): ModelShape => {
  const vocabSize = model.vocabSize ?? DEFAULT_VOCAB_SIZE
  const n = model.parameters
  if (model.layers !== undefined && model.hiddenSize !== undefined) {
    const heads = model.heads ?? Math.max(1, Math.round(model.hiddenSize / HEAD_DIM))
    return {
      parameters: n,
      layers: model.layers,
      hiddenSize: model.hiddenSize,
      heads,
      kvHeads: Math.min(heads, model.kvHeads ?? heads),
      vocabSize,
      derived: false
    }
  }
  let layers: number
  let hiddenSize: number
  if (model.hiddenSize !== undefined) {
    hiddenSize = model.hiddenSize
    layers = Math.max(1, Math.round(Math.max(n - vocabSize * hiddenSize, n / 2) / (12 * hiddenSize * hiddenSize)))
  } else if (model.layers !== undefined) {
    layers = model.layers
    hiddenSize = solveHidden(n, layers, vocabSize)
  } else {
    // N ≈ 12·L·(128·L)² → L = ∛(N / (12·128²)); then h from the non-embedding parameters.
    layers = Math.max(1, Math.round(Math.cbrt(n / (12 * ASPECT_RATIO * ASPECT_RATIO))))
    hiddenSize = solveHidden(n, layers, vocabSize)
  }
  const heads = Math.max(1, Math.round(
    model.heads ?? (hiddenSize % HEAD_DIM === 0 ? hiddenSize / HEAD_DIM : Math.max(1, hiddenSize / 64))
  ))
  // Without kvHeads the cache is sized for full multi-head attention: never smaller than the model's real one.
  return { parameters: n, layers, hiddenSize, heads, kvHeads: Math.min(heads, model.kvHeads ?? heads), vocabSize, derived: true }
}

/** h solving 12·L·h² + V·h = N (positive root), rounded to a multiple of 64 as real models are. */
const solveHidden = (n: number, layers: number, vocabSize: number): number => {
  const a = 12 * layers
  const h = (-vocabSize + Math.sqrt(vocabSize * vocabSize + 4 * a * n)) / (2 * a)
  return roundTo(h, 64)
}
