// What bench/run.ts and the load generator (bench/load.ts, another process) exchange.
import type { Summary } from './stats.ts';

export interface BenchUser {
  username: string;
  phone: string;
}

export interface LoadConfig {
  scenario: 'login' | 'stuffing' | 'resend-storm' | 'pumping';
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  gatewayOrigin: string;
  password: string;
  /** Real users, checked out one login at a time. */
  users: BenchUser[];
  /** resend-storm: one account per session worker. */
  stormUsers: BenchUser[];
  /** stuffing: real usernames that the attack targets (never used by the real logins). */
  victims: string[];
  unknownUsernames: string[];
  concurrency: number;
  stuffingConcurrency: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** resend-storm: "Send a new code" presses per session. */
  resendPresses: number;
  /** pumping: the attacker's accounts, with sequential numbers in one range. */
  pumpAttackers: BenchUser[];
  /** pumping: real users, numbers spread over many ranges; each signs in at most twice. */
  pumpUsers: BenchUser[];
}

export const STEPS = ['authorize', 'password', 'otp', 'token', 'userinfo', 'login'] as const;
export type Step = (typeof STEPS)[number];

export interface LoadResult {
  type: 'result';
  measuredSeconds: number;
  logins: number;
  loginsPerSecond: number;
  latencyMs: Record<Step, Summary>;
  /** Time to read the code from the gateway (not part of any Keystep step). */
  smsFetchMs: Summary;
  errors: number;
  errorSamples: string[];
  loadGeneratorCpuSeconds: number;
  stuffing?: {
    attempts: number;
    attemptsPerSecond: number;
    refusedBeforeHash: number;
    hashed: number;
    other: number;
    answers: Partial<Record<string, number>>;
    latencyMs: Summary;
  };
  storm?: {
    sessions: number;
    completed: number;
    abandoned: number;
    presses: number;
    answers: Partial<Record<string, number>>;
    firstPageAnswers: Partial<Record<string, number>>;
    smsReceived: number;
    maxSmsPerLogin: number;
    smsPerAccount: Record<string, number>;
  };
  pumping?: {
    /** Logins the attack took to the code page, from one address and from many. */
    attackLogins: { oneAddress: number; manyAddresses: number };
    /** What the code page said to the attack: first codes and resends. */
    attackAnswers: Partial<Record<string, number>>;
    realLogins: number;
    /** Real users whose code was refused, by the message they saw. */
    realRefused: Partial<Record<string, number>>;
  };
}
