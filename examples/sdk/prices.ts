/**
 * Live AWS prices (`frugal prices refresh`, then `catalog: "aws"`): credentials and endpoints come from the AWS SDK's
 * usual chain (AWS_PROFILE, AWS_REGION, …); the cache from FRUGAL_CACHE_DIR, else $XDG_CACHE_HOME/frugal.
 */
import { Frugal } from "@frugal/sdk"

await using frugal = Frugal.make({ catalog: "aws" })

const refreshed = await frugal.refreshPrices({
  regions: ["us-east-1"],
  kinds: ["on-demand", "spot"],
  onEvent: (event, progress) => {
    if (event._tag !== "RegionDone") console.log(`  ${progress.done}/${progress.total} ${event.region} ${event.kind}: ${event._tag === "KindDone" ? "done" : "failed"}`)
  }
})
// "partial" names each region and kind not refreshed; what was fetched is cached and used. Nothing at all rejects.
console.log(`refresh: ${refreshed.status}, ${refreshed.regions.map((region) => `${region.region} ${region.offers} offers`).join(", ")}`)

const prices = await frugal.gpus({ region: "us-east-1", gpu: "H100" })
console.log(`gpus: ${prices.instances.length} H100 types from ${prices.catalog.kind}`)
