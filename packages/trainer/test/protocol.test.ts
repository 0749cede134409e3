import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { classifyEventLine, decodeEventLine, type EventLine, eventStep, TRAINER_EVENT_KINDS } from "../src/index.ts"

type Expectation = EventLine["_tag"]

// The fixture is a fake stdout transcript; `## event`, `## not-protocol` and `## malformed` headers say
// what the lines below them must decode to. The Python tests read the same file (tests/test_protocol.py).
const fixtureLines = (): ReadonlyArray<{ readonly expectation: Expectation; readonly line: string }> => {
  const text = readFileSync(new URL("./fixtures/protocol.jsonl", import.meta.url), "utf8")
  const headers: Record<string, Expectation> = { event: "Event", "not-protocol": "NotProtocol", malformed: "Malformed" }
  let expectation: Expectation | undefined
  const lines: Array<{ expectation: Expectation; line: string }> = []
  for (const line of text.split("\n")) {
    const header = /^## (.+)$/.exec(line)
    if (header !== null) {
      expectation = headers[header[1] ?? ""]
      continue
    }
    if (line.trim() === "" || expectation === undefined) continue
    lines.push({ expectation, line })
  }
  return lines
}

describe("trainer protocol", () => {
  const lines = fixtureLines()

  it("has fixture lines of every kind", () => {
    const kinds = new Set(lines.map((l) => l.expectation))
    expect([...kinds].sort()).toEqual(["Event", "Malformed", "NotProtocol"])
    const events = lines.filter((l) => l.expectation === "Event").map((l) => decodeEventLine(l.line)?.event)
    expect(new Set(events)).toEqual(new Set(TRAINER_EVENT_KINDS))
    expect(TRAINER_EVENT_KINDS).toContain("checkpoints-invalid")
  })

  it.each(lines.map((l) => [l.expectation, l.line] as const))("sorts a line as %s: %s", (expectation, line) => {
    const sorted = classifyEventLine(line)
    expect(sorted._tag).toBe(expectation)
    expect(decodeEventLine(line) === null).toBe(expectation !== "Event")
  })

  it("decodes the fields of a step and drops fields it does not know", () => {
    const event = decodeEventLine(
      '{"event":"step","time":"2026-11-23T07:00:02Z","step":3,"loss":9.9,"tokensPerSecond":1200,"tokensSeen":49152,' +
        '"gpuUtilization":null,"gpuMemoryGiB":4.5,"mfu":0.35,"fieldFromTheFuture":[1,2]}'
    )
    expect(event).toEqual({
      event: "step",
      time: "2026-11-23T07:00:02Z",
      step: 3,
      loss: 9.9,
      tokensPerSecond: 1200,
      tokensSeen: 49152,
      gpuUtilization: null,
      gpuMemoryGiB: 4.5,
      mfu: 0.35
    })
  })

  it("decodes a checkpoints-invalid event with each rejected file, its step and the check it failed", () => {
    const event = decodeEventLine(
      '{"event":"checkpoints-invalid","time":"2026-11-23T07:00:06Z","checkpointDir":"/ckpt",' +
        '"rejected":[{"path":"/ckpt/step-00000010.ckpt","step":10,"reason":"checksum mismatch"}]}'
    )
    expect(event).toEqual({
      event: "checkpoints-invalid",
      time: "2026-11-23T07:00:06Z",
      checkpointDir: "/ckpt",
      rejected: [{ path: "/ckpt/step-00000010.ckpt", step: 10, reason: "checksum mismatch" }]
    })
    expect(event === null ? undefined : eventStep(event)).toBeNull()
  })

  it("names the field and the expectation of a malformed line", () => {
    const sorted = classifyEventLine(
      '{"event":"interrupted","time":"2026-11-23T07:00:04Z","step":4,"reason":"SIGKILL","checkpointStep":4}'
    )
    expect(sorted._tag).toBe("Malformed")
    if (sorted._tag === "Malformed") {
      expect(sorted.message).toContain("reason")
      expect(sorted.message).toContain("SIGTERM")
    }
  })
})
