/**
 * What `examples/sdk/tour.ts` must print, wherever it runs (from the workspace's source, or installed from the packed
 * tarballs): each step's line, with the figures that do not depend on the machine checked exactly.
 */
import { expect } from "vitest"

export const expectTourOutput = (stdout: string): void => {
  const lines = stdout.trim().split("\n")
  // The recommendation of the 7B fine-tune on the embedded snapshot: a B200 node, on spot, within its 72 h deadline.
  expect(lines[0]).toMatch(/^plan: llama-7b-finetune: 1 × p6-b200\.48xlarge spot in [a-z0-9-]+, \$\d+(\.\d+)? over \d+(\.\d+)? h \(prices as of \d{4}-\d{2}-\d{2}\)$/)
  const hours = Number(/over (\d+(?:\.\d+)?) h/.exec(lines[0] ?? "")?.[1])
  expect(hours).toBeLessThanOrEqual(72)
  // tiny-train: 40 steps, a checkpoint every 5.
  expect(lines[1]).toBe("run: job tiny-train completed at step 40 after 1 attempt(s), 8 checkpoints")
  expect(lines[2]).toBe("status: tiny-train completed")
  // The example week of packages/waste/test/ExampleData.test.ts, worked out by hand there.
  expect(lines[3]).toBe("report: 2026-11-02..2026-11-09 spend $4614.56, avoidable $2420.33 in 6 findings, largest spot-eligible")
  expect(lines[4]).toBe("simulate: on-demand: cost 1.000 of on-demand, 0 deadline misses in 50 runs")
  for (const line of lines.slice(5)) {
    const match = /^simulate: (greedy|frugal): cost (\d\.\d{3}) of on-demand, 0 deadline misses in 50 runs$/.exec(line)
    expect(match, line).not.toBeNull()
    // Spot at $0.90 against $3.06 on demand, up 5 hours in 6: well under on-demand.
    expect(Number(match?.[2])).toBeLessThan(0.6)
  }
  expect(lines).toHaveLength(7)
}
