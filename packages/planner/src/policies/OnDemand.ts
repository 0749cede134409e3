/** The baseline every cost is normalised to: on-demand from start to finish. */
import { NONE, ON_DEMAND, type Policy } from "./Policy.ts"

export const onDemandPolicy: Policy = {
  name: "on-demand",
  decide: (state) => (state.computeHoursLeft <= 0 ? NONE : ON_DEMAND)
}
