import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

/** The storage the adapter needs; repositories/oidc-payloads.ts provides it. */
export interface PayloadStore {
  upsert(model: string, id: string, payload: Record<string, unknown>, expiresInSeconds: number | undefined): Promise<void>;
  find(model: string, id: string): Promise<{ payload: Record<string, unknown>; consumedAt: Date | null } | undefined>;
  findByUid(model: string, uid: string): Promise<{ payload: Record<string, unknown>; consumedAt: Date | null } | undefined>;
  findByUserCode(model: string, userCode: string): Promise<{ payload: Record<string, unknown>; consumedAt: Date | null } | undefined>;
  consume(model: string, id: string): Promise<boolean>;
  /** False when the row was already gone. */
  destroy(model: string, id: string): Promise<boolean>;
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /** Every row of one grant, in every model, and the grant itself. */
  revokeGrant(grantId: string): Promise<void>;
}

/** Clients come from Keystep's own table, as provider metadata. */
export interface ClientSource {
  findMetadata(clientId: string): Promise<Record<string, unknown> | undefined>;
}

function toPayload(record: { payload: Record<string, unknown>; consumedAt: Date | null } | undefined): AdapterPayload | undefined {
  if (!record) return undefined;
  const payload = record.payload as AdapterPayload;
  return record.consumedAt ? { ...payload, consumed: Math.floor(record.consumedAt.getTime() / 1000) } : payload;
}

// Ids and codes come from requests; Postgres text cannot hold NUL, and no real id contains one.
const hasNul = (value: string) => value.includes('\u0000');

class PostgresAdapter implements Adapter {
  readonly #model: string;
  readonly #store: PayloadStore;
  readonly #clients: ClientSource;

  constructor(model: string, store: PayloadStore, clients: ClientSource) {
    this.#model = model;
    this.#store = store;
    this.#clients = clients;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    // Clients are managed with `keystep client`, never written by the provider.
    if (this.#model === 'Client') return;
    await this.#store.upsert(this.#model, id, payload as Record<string, unknown>, expiresIn || undefined);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (hasNul(id)) return undefined;
    if (this.#model === 'Client') return (await this.#clients.findMetadata(id)) as AdapterPayload | undefined;
    return toPayload(await this.#store.find(this.#model, id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    if (hasNul(uid)) return undefined;
    return toPayload(await this.#store.findByUid(this.#model, uid));
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    if (hasNul(userCode)) return undefined;
    return toPayload(await this.#store.findByUserCode(this.#model, userCode));
  }

  async consume(id: string): Promise<void> {
    // The provider checks `consumed` and then calls this; two parallel token requests can both get
    // past that check, so only the one whose conditional update changed the row may go on.
    if (!(await this.#store.consume(this.#model, id))) {
      // The loser of a race with the same code or refresh token: treat it as a replay and revoke
      // everything of that grant, including what the winner is issuing.
      const grantId = (await this.#store.find(this.#model, id))?.payload.grantId;
      if (typeof grantId === 'string') await this.#store.revokeGrant(grantId);
      throw new errors.InvalidGrant('grant request is invalid');
    }
  }

  async destroy(id: string): Promise<void> {
    const destroyed = await this.#store.destroy(this.#model, id);
    // The provider resumes a finished login by reading its interaction, then destroying it, then
    // issuing the code: two resumes racing could both read it. Only the one that destroyed it goes on.
    if (!destroyed && this.#model === 'Interaction') throw new errors.SessionNotFound('interaction session not found');
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#store.revokeByGrantId(this.#model, grantId);
  }
}

export function postgresAdapterFactory(store: PayloadStore, clients: ClientSource) {
  return (model: string): Adapter => new PostgresAdapter(model, store, clients);
}
