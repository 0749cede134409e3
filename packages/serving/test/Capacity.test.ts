import { acceleratorByName, type AcceleratorSpec, type InferenceWorkload, meetsInferenceTarget } from "@frugal/core"
import { describe, expect, it } from "vitest"
import { maxDecodeTokensPerSecond, replicaCapacity } from "../src/index.ts"

const spec = (name: string): AcceleratorSpec => {
  const found = acceleratorByName(name)
  if (found === undefined) throw new Error(name)
  return found
}

/** LLaMA 3 8B (32 layers, 4096 hidden, 32 heads, 8 KV heads, 128k vocabulary), bf16, 4k context. */
const llama3: InferenceWorkload = {
  name: "chat",
  kind: "inference",
  model: { parameters: 8e9, precision: "bf16", layers: 32, hiddenSize: 4096, heads: 32, kvHeads: 8, vocabSize: 128256 },
  inference: { tokensPerSecond: 1000, hoursPerMonth: 730, sequenceLength: 4096 },
  constraints: { interruptible: false }
}

const withTarget = (tokensPerSecond: number): InferenceWorkload => ({ ...llama3, inference: { ...llama3.inference, tokensPerSecond } })

describe("what one replica carries", () => {
  it("decode capacity is the largest target core's serving estimate accepts (within 1%)", () => {
    const h100 = spec("H100")
    const decode = maxDecodeTokensPerSecond(llama3, h100, 1)
    expect(meetsInferenceTarget(withTarget(decode), h100, 1)).toBe(true)
    expect(meetsInferenceTarget(withTarget(decode * 1.02), h100, 1)).toBe(false)
  })

  it("prefill is 2·N·context FLOPs at half the dense peak: 8B × 1,000 tokens on an H100 (989.4 TFLOP/s bf16) takes 32.3 ms", () => {
    const capacity = replicaCapacity(llama3, spec("H100"), 1, { contextTokens: 1000, generatedTokens: 100 })
    expect(capacity?.prefillSecondsPerRequest).toBeCloseTo((2 * 8e9 * 1000) / (989.4e12 * 0.5), 6)
    expect(capacity?.prefillSecondsPerRequest).toBeCloseTo(0.0323, 4)
  })

  it("splits a replica's time between prefill and decode, and holds μ × latency requests in flight (Little's law)", () => {
    const mix = { contextTokens: 1155, generatedTokens: 211 }
    const capacity = replicaCapacity(llama3, spec("A10G"), 1, mix)
    if (capacity === null) throw new Error("an A10G serves an 8B model")
    expect(capacity.requestsPerSecond).toBeCloseTo(1 / (capacity.prefillSecondsPerRequest + 211 / capacity.decodeTokensPerSecond), 12)
    expect(capacity.latencySeconds).toBeCloseTo(capacity.prefillSecondsPerRequest + 211 / capacity.streamTokensPerSecond, 12)
    expect(capacity.requestsInFlight).toBeCloseTo(capacity.requestsPerSecond * capacity.latencySeconds, 12)
    expect(capacity.streamTokensPerSecond).toBeGreaterThanOrEqual(10)
  })

  it("long prompts cost capacity: the coding mix (2,048 in, 28 out) and the chat mix (1,155 in, 211 out) on one L40S", () => {
    const l40s = spec("L40S")
    const code = replicaCapacity(llama3, l40s, 1, { contextTokens: 2048, generatedTokens: 28 })
    const chat = replicaCapacity(llama3, l40s, 1, { contextTokens: 1155, generatedTokens: 211 })
    if (code === null || chat === null) throw new Error("an L40S serves an 8B model")
    expect(code.prefillSecondsPerRequest).toBeGreaterThan(chat.prefillSecondsPerRequest)
    expect(code.latencySeconds).toBeLessThan(chat.latencySeconds)
    expect(code.requestsPerSecond).toBeGreaterThan(chat.requestsPerSecond)
  })

  it("is null where the model does not fit: a 70B model on one 16 GiB T4", () => {
    const big: InferenceWorkload = { ...llama3, model: { parameters: 70e9, precision: "bf16" } }
    expect(replicaCapacity(big, spec("T4"), 1, { contextTokens: 100, generatedTokens: 100 })).toBeNull()
  })
})
