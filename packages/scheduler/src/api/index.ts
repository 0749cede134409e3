/**
 * `@frugal/scheduler/api`: the HTTP contract of `frugal server` and its client, without the scheduler itself (no
 * SQLite, no engines), for the CLI, the SDK and the Slack bot.
 */
export * from "./QueueApi.ts"
export * from "./QueueClient.ts"
