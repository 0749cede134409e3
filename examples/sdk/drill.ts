/** A pre-emption drill (`frugal drill`): train once straight, once interrupted, and compare the weights bit for bit. */
import { readFileSync } from "node:fs"
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make()
const source = "examples/run/tiny-train.yaml"

const drill = await frugal.drill(readFileSync(source, "utf8"), {
  source,
  interruptions: 2,
  seed: 7,
  onProgress: (line) => console.log(`  ${line.split(":")[0]}`) // the step each interruption lands on varies with timing
})
console.log(`identical: ${drill.identical} after ${drill.interruptions.length} interruptions (weights ${drill.finalHash === drill.referenceHash ? "match" : "differ"})`)
