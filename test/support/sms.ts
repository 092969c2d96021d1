import type { SmsMessage, SmsSender } from '../../src/sms/port.ts';
import { Gate } from './gate.ts';
import { SmsDeliveryError } from '../../src/sms/port.ts';
import { cryptoRandom, type Random } from '../../src/shared/random.ts';

/** A recording fake of the SmsSender port (the HTTP gateway has its own tests against a real server). */
export class RecordingSender implements SmsSender {
  readonly sent: SmsMessage[] = [];
  failing = false;
  /** Fail as a timeout does: the SMS may still arrive. */
  uncertain = false;

  /** Holds the next send (`gate.holdNext()`), so a test can act while it is in flight. */
  readonly gate = new Gate();

  async send(message: SmsMessage) {
    await this.gate.pass();
    if (this.failing) throw new SmsDeliveryError('gateway answered 503', 503);
    if (this.uncertain) {
      this.sent.push(message);
      throw new SmsDeliveryError('gateway timed out', undefined, { mayHaveSent: true });
    }
    this.sent.push(message);
    return { messageId: `SM${this.sent.length}`, status: 201 };
  }

  to(number: string): SmsMessage[] {
    return this.sent.filter((m) => m.to === number);
  }

  /** The code in the newest message to a number, read from the origin-bound last line. */
  lastCode(number: string): string {
    const message = this.to(number).at(-1);
    const match = message && /#(\w+)\s*$/.exec(message.text);
    if (!match) throw new Error(`no code sent to ${number}`);
    return match[1]!;
  }
}

/** A clock the test moves by hand. */
export class TestClock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(seconds: number): void {
    this.#now += seconds * 1000;
  }
}

/**
 * Real random bytes (keys, anti-forgery tokens), but codes that never repeat within a test, so
 * "another code is refused" can always be checked.
 */
export function distinctCodes(): Random {
  let n = 0;
  return { bytes: cryptoRandom.bytes, int: (max) => (104_729 * ++n) % max };
}

/** A code of the same shape that is certainly not `code`. */
export function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}
