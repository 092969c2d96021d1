/**
 * Holds the next call that passes through it until `release`, so a test can act while that call is
 * under way (`reached` resolves once it is). No timing involved.
 */
export class Gate {
  #next: { reached(): void; released: Promise<void> } | undefined;

  holdNext(): { reached: Promise<void>; release(): void } {
    let reached!: () => void;
    let release!: () => void;
    const reachedPromise = new Promise<void>((resolve) => { reached = resolve; });
    this.#next = { reached, released: new Promise<void>((resolve) => { release = resolve; }) };
    return { reached: reachedPromise, release };
  }

  /** Called by the held code path: waits here if a test asked to hold it. */
  async pass(): Promise<void> {
    const held = this.#next;
    this.#next = undefined;
    if (!held) return;
    held.reached();
    await held.released;
  }
}
