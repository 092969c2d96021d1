// The shape of bench/results/latest.json: what one run of `npm run bench` measured.
import type { CeilingResult } from './ceiling.ts';
import type { BenchOptions, Scenario } from './options.ts';
import type { ThreadCpu } from './proc.ts';
import type { ProfileSummary } from './profile.ts';
import type { LoadResult, Step } from './protocol.ts';
import type { Summary } from './stats.ts';

export interface StormBudgets {
  maxResends: number;
  userSendLimit: number;
  resendCooldownSeconds: number;
  ipSendLimit: number;
  globalSendLimit: number;
}

export interface CpuPlan {
  pinned: boolean;
  keystepCpus?: string;
  otherCpus?: string;
  note: string;
}

export interface ScenarioResult {
  name: string;
  kind: Scenario['kind'];
  gatewayDelayMs: number;
  measuredSeconds: number;
  logins: number;
  loginsPerSecond: number;
  /** The argon2id ceiling this scenario is compared with: the mean of the measurements before and after it. */
  ceilingPerSecond: number;
  ratio: number;
  latencyMs: Record<Step, Summary>;
  smsFetchMs: Summary;
  errors: number;
  errorSamples: string[];
  keystepCpuSecondsPerLogin: number | null;
  /** Measured per thread: the JavaScript thread, libuv's pool (argon2id, WebCrypto), the rest (V8's GC and compiler). */
  keystepCpuMsPerLoginByThread: ThreadCpu | null;
  keystepCpuUtilisation: number;
  postgresCpuSecondsPerLogin: number | null;
  loadGeneratorCpuUtilisation: number;
  peakRssMiB: number | null;
  pgRowsWrittenPerLogin: number | null;
  pgCommitsPerLogin: number | null;
  keystepExitCode: number | null;
  settings: Record<string, string>;
  stuffing?: NonNullable<LoadResult['stuffing']> & {
    realUserLogins: number;
    /** From auth_events: password failures in the window by reason (throttled/locked = refused before hashing). */
    eventsByReason: Record<string, number>;
    usernamesLocked: number;
  };
  resendStorm?: NonNullable<LoadResult['storm']> & {
    budgets: StormBudgets;
    accounts: number;
    gatewayPerAccountMax: number;
    dbSentPerLoginMax: number;
    dbSentTotal: number;
    gatewayTotal: number;
    withinBudgets: boolean;
  };
  pumping?: NonNullable<LoadResult['pumping']> & PumpingFigures;
  profile?: ProfileSummary;
}

/** What the database says of the pumping attack: SMS against each budget, and the pause that stopped it. */
export interface PumpingFigures {
  /** The attacker's range, masked as operators see it. */
  range: string;
  settings: Record<string, number>;
  /** SMS the fake gateway received for the attacker's numbers, and for the real users'. */
  attackSmsReceived: number;
  realSmsReceived: number;
  /** sms.blocked events by budget (audit reasons): what each refused of the attack. */
  refusedByBudget: Record<string, number>;
  /** The attacker's range paused by the breaker: seconds after its first SMS, the ratio it saw. */
  pause: { scope: string; range: string; afterSeconds: number; sent: number; entered: number } | null;
  attackSmsBeforePause: number;
  attackSmsAfterPause: number;
}

export interface BenchResults {
  date: string;
  machine: { nproc: number; allowedCpus: number[]; cpuModel: string; node: string; platform: string };
  pinning: CpuPlan;
  options: Omit<BenchOptions, 'scenarios'> & { scenarios: string[] };
  /** The first ceiling measurement in full (parameters, thread pool). */
  ceiling: CeilingResult;
  /** Every ceiling measurement of the run, in order: before each scenario and after the last. */
  ceilings: number[];
  /** The ceiling the main scenario is compared with (the mean of the measurements around it). */
  ceilingPerSecond: number;
  loginsPerSecond: number;
  ratio: number;
  p95Ms: number;
  errors: number;
  scenarios: ScenarioResult[];
  checks: { name: string; ok: boolean; detail: string }[];
  ok: boolean;
}
