/**
 * The AWS SDK v3 clients the live catalog uses: one Pricing client (the Price List API answers from
 * us-east-1 for every region) and one EC2 client per region, created on first use inside the layer and
 * destroyed when the layer's scope closes.
 *
 * Configuration is the SDK's own: the default credential chain (env, SSO, profiles, IMDS), `AWS_PROFILE`,
 * and `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_PRICING` / `AWS_ENDPOINT_URL_EC2` for endpoints, which is
 * also how tests reach their loopback server. The SDK's own retries are off (`maxAttempts: 1`): retries
 * are ours (`AwsCall.ts`), so that throttling, 5xx and timeouts share one jittered backoff and one error;
 * the clients' HTTP handlers get the connection and request timeouts of `AwsTimeouts`.
 */
import { EC2Client } from "@aws-sdk/client-ec2"
import { PricingClient } from "@aws-sdk/client-pricing"
import { Context, Effect, Layer } from "effect"
import { awsClientOptions, AwsTimeouts } from "./AwsCall.ts"

/** The Price List Query API has endpoints in us-east-1, eu-central-1 and ap-south-1; all serve every region. */
export const PRICING_API_REGION = "us-east-1"

export class AwsClients extends Context.Service<AwsClients, {
  readonly pricing: PricingClient
  readonly ec2: (region: string) => EC2Client
}>()("@frugal/pricing/aws/AwsClients") {
  static readonly layer = Layer.effect(
    AwsClients,
    Effect.gen(function*() {
      const options = awsClientOptions(yield* AwsTimeouts)
      const pricing = yield* Effect.acquireRelease(
        Effect.sync(() => new PricingClient({ region: PRICING_API_REGION, ...options })),
        (client) => Effect.sync(() => client.destroy())
      )
      const ec2Clients = new Map<string, EC2Client>()
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const client of ec2Clients.values()) client.destroy()
          ec2Clients.clear()
        })
      )
      const ec2 = (region: string): EC2Client => {
        const existing = ec2Clients.get(region)
        if (existing !== undefined) return existing
        const client = new EC2Client({ region, ...options })
        ec2Clients.set(region, client)
        return client
      }
      return AwsClients.of({ pricing, ec2 })
    })
  )
}
