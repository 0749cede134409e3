/** `@frugal/sdk/report`: the waste report. A separate entry point because it loads `@frugal/waste` (AWS SDK, ECharts). */
export * from "./WasteReports.ts"
