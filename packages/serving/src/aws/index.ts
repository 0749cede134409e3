/**
 * `@frugal/serving/aws`: the EC2 Auto Scaling engine for services. A separate entry point so that planning and
 * simulating a service never load the AWS SDK.
 */
export * from "./AutoScalingEngine.ts"
export * from "./AutoScalingRequests.ts"
