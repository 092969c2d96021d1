import { randomBytes, randomInt } from 'node:crypto';

/** Randomness as a port, so tests can make codes and tokens predictable. */
export interface Random {
  bytes(size: number): Buffer;
  /** Uniform integer in [0, max). */
  int(max: number): number;
}

export const cryptoRandom: Random = {
  bytes: (size) => randomBytes(size),
  int: (max) => randomInt(max),
};
