import { assert, describe, it } from "@effect/vitest"
import { parsePythonLiteral, PythonLiteralError } from "../scripts/PythonLiteral.ts"

describe("parsePythonLiteral", () => {
  it("reads an AWS GpuInfo dict with single-quoted strings, floats and nested lists", () => {
    const text = "{'Gpus': [{'Name': 'H100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'GpuPartitionSize': 1.0, " +
      "'Workloads': ['ml-ai'], 'MemoryInfo': {'SizeInMiB': 81920}}], 'TotalGpuMemoryInMiB': 655360}"
    assert.deepStrictEqual(parsePythonLiteral(text), {
      Gpus: [{ Name: "H100", Manufacturer: "NVIDIA", Count: 8, GpuPartitionSize: 1, Workloads: ["ml-ai"], MemoryInfo: { SizeInMiB: 81920 } }],
      TotalGpuMemoryInMiB: 655360
    })
  })

  it("reads True, False, None, tuples, escapes and apostrophes inside double quotes", () => {
    assert.deepStrictEqual(parsePythonLiteral("{'a': True, 'b': False, 'c': None, 'd': (1, -2.5e3,), 'e': \"it's\", 'f': 'x\\'y\\n'}"), {
      a: true, b: false, c: null, d: [1, -2500], e: "it's", f: "x'y\n"
    })
  })

  it("keeps a key named __proto__ as data instead of changing the prototype", () => {
    const parsed = parsePythonLiteral("{'__proto__': {'polluted': 1}}")
    assert.deepStrictEqual(Object.keys(parsed ?? {}), ["__proto__"])
    const probe: Record<string, unknown> = {}
    assert.strictEqual(probe["polluted"], undefined)
  })

  it("rejects code and malformed input with the offset of the problem", () => {
    for (const bad of ["__import__('os')", "{'a': 1", "{'a' 1}", "[1, 2", "'unterminated", "{'a': 1} extra", ""]) {
      assert.throws(() => parsePythonLiteral(bad), PythonLiteralError)
    }
    assert.throws(() => parsePythonLiteral("{'a': nope}"), /at offset 6: expected a Python literal/)
  })
})
