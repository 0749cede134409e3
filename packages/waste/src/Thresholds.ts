/** The knobs of the findings, with the defaults the docs describe (docs/waste.md). */
export interface Thresholds {
  /** A GPU below this average utilisation (percent) in an hour is idle that hour. */
  readonly idleUtilizationPct: number
  /** Idle stretches shorter than this are ignored (a job starting, a checkpoint write). */
  readonly idleMinHours: number
  /** A GPU averaging below this utilisation while busy may be larger than the work needs. */
  readonly oversizedMaxUtilizationPct: number
  /** A smaller GPU must hold the peak memory used times this headroom. */
  readonly oversizedMemoryHeadroom: number
  /** Fewer busy hours than this on an instance is too little evidence to resize it. */
  readonly oversizedMinHours: number
  /** Spot is suggested only in zones at or below this Spot Instance Advisor bucket (2: 10–15%). */
  readonly spotMaxInterruptionBucket: number
  /** A steady baseline must hold for at least this many days before a commitment is suggested. */
  readonly commitmentMinDays: number
  /** Work lost to an interruption below this many hours is noise, not a finding. */
  readonly lostWorkMinHours: number
  /** Where an instance type's region is unknown (no AZ breakdown), its prices are looked up here. */
  readonly defaultRegion: string
  /** AWS bills a month as 730 hours. */
  readonly hoursPerMonth: number
}

export const defaultThresholds: Thresholds = {
  idleUtilizationPct: 30,
  idleMinHours: 1,
  oversizedMaxUtilizationPct: 50,
  oversizedMemoryHeadroom: 1.25,
  oversizedMinHours: 6,
  spotMaxInterruptionBucket: 2,
  commitmentMinDays: 7,
  lostWorkMinHours: 0.25,
  defaultRegion: "us-east-1",
  hoursPerMonth: 730
}
