import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { CatalogInputError, DEFAULT_PROVENANCE, generateCatalog } from "../scripts/CatalogGenerator.ts"
import { EmbeddedSnapshot } from "../src/EmbeddedSnapshot.ts"

const HEADER = "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch,LocalDiskType,NVMeSupported,LocalDiskSize,LocalDiskCount"
const P4D_GPU = `"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}"`
const rows = [
  `p4d.24xlarge,A100,8.0,96.0,1152.0,${P4D_GPU},21.96,8.0087,us-east-1,use1-az1,x86_64,ssd,True,1000.0,8.0`,
  `p4d.24xlarge,A100,8.0,96.0,1152.0,${P4D_GPU},21.96,6.5323,us-east-1,use1-az2,x86_64,ssd,True,1000.0,8.0`,
  `p4d.24xlarge,A100,8.0,96.0,1152.0,${P4D_GPU},21.96,,us-east-1,use1-az3,x86_64,ssd,True,1000.0,8.0`,
  "f1.2xlarge,Virtex UltraScale (VU9P),1.0,8.0,122.0,,1.65,,us-east-1,use1-az1,x86_64,ssd,True,470.0,1.0"
]
const advisor = JSON.stringify({
  ranges: [{ index: 0, label: "<5%" }, { index: 2, label: "10-15%" }, { index: 1, label: "5-10%" }],
  spot_advisor: { "us-east-1": { Linux: { "p4d.24xlarge": { s: 67, r: 2 } }, Windows: {} } }
})

const generate = (csv: string, advisorJson = advisor) =>
  generateCatalog({
    offersCsv: csv,
    offersFileName: "offers.csv",
    spotAdvisorJson: advisorJson,
    spotAdvisorFileName: "advisor.json",
    provenance: DEFAULT_PROVENANCE
  })

describe("generateCatalog", () => {
  it("keeps accelerator rows under canonical names, on-demand per region, spot per AZ and the advisor's bucket", () => {
    const snapshot = Schema.decodeUnknownSync(EmbeddedSnapshot)(JSON.parse(generate([HEADER, ...rows].join("\n"))))
    assert.deepStrictEqual(snapshot.instanceTypes, [{
      name: "p4d.24xlarge", accelerator: "A100-40GB", acceleratorCount: 8, acceleratorMemoryGiB: 40, vcpus: 96, memoryGiB: 1152, arch: "x86_64"
    }])
    // Zones sorted; the zone without a spot price is not a spot offer.
    assert.deepStrictEqual(snapshot.prices, [["p4d.24xlarge", "us-east-1", 21.96, 2, 67, [["use1-az1", 8.0087], ["use1-az2", 6.5323]]]])
    assert.deepStrictEqual(snapshot.interruptionBuckets.map((b) => b.bucket), [0, 1, 2])
    assert.strictEqual(snapshot.counts.excludedRows, 1) // the FPGA row
    assert.strictEqual(snapshot.counts.spotPrices, 2)
  })

  it("is deterministic and independent of the input's row order", () => {
    const a = generate([HEADER, ...rows].join("\n"))
    assert.strictEqual(generate([HEADER, ...[...rows].reverse()].join("\n")).replace(/"sha256": "[0-9a-f]+"/g, ""), a.replace(/"sha256": "[0-9a-f]+"/g, ""))
    assert.strictEqual(generate([HEADER, ...rows].join("\n")), a)
  })

  it("refuses what it cannot vouch for, naming the file and row", () => {
    assert.throws(() => generate([HEADER, rows[0]?.replace(",A100,", ",Z999,") ?? ""].join("\n")), CatalogInputError, /offers\.csv row 2 \(p4d\.24xlarge use1-az1\): unknown accelerator "Z999"/)
    assert.throws(() => generate([HEADER, rows[0]?.replace("21.96", "abc") ?? ""].join("\n")), CatalogInputError, /Price: expected a number, got "abc"/)
    assert.throws(() => generate("InstanceType,AcceleratorName\nx,y"), CatalogInputError, /offers\.csv \(columns of the SkyPilot catalog\): Missing key/)
    assert.throws(() => generate([HEADER, ...rows].join("\n"), "{"), CatalogInputError, /advisor\.json: not JSON/)
    assert.throws(
      () => generate([HEADER, rows[0] ?? "", rows[1]?.replace("21.96", "22.5") ?? ""].join("\n")),
      CatalogInputError,
      /on-demand price 22\.5 differs from 21\.96/
    )
  })
})
