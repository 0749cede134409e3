export * from "./Ec2Config.ts"
export * as Ec2Runner from "./Ec2Runner.ts"
export * from "./UserData.ts"
export * from "./Rendezvous.ts"
