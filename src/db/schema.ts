import type { ColumnType, Generated, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface AccountsTable {
  id: Generated<string>;
  domain: Generated<string>;
  username: string;
  password_hash: string;
  phone: string | null;
  phone_verified_at: NullableTimestamp;
  sms_otp_exempt: Generated<boolean>;
  disabled_at: NullableTimestamp;
  failed_otp_count: Generated<number>;
  otp_locked_until: NullableTimestamp;
  signed_out_at: NullableTimestamp;
  sign_outs: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PasswordFailuresTable {
  username_key: string;
  failures: Generated<number>;
  last_failure_at: Timestamp;
  locked_until: NullableTimestamp;
}

export interface ClientsTable {
  client_id: string;
  metadata: Json<Record<string, unknown>>;
  consent_required: Generated<boolean>;
  mfa: string | null;
  first_steps: Generated<string[] | null>;
  created_at: Generated<Date>;
}

export interface OidcPayloadsTable {
  model: string;
  id: string;
  payload: Json<Record<string, unknown>>;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  account_id: string | null;
  expires_at: NullableTimestamp;
  issued_at: NullableTimestamp;
  consumed_at: NullableTimestamp;
}

export interface LoginFlowsTable {
  uid: string;
  account_id: string | null;
  passed: Generated<string[]>;
  amr: Generated<string[]>;
  version: Generated<number>;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  expires_at: Timestamp;
  handover_at: NullableTimestamp;
  account_sign_outs: number | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AuthEventsTable {
  id: Generated<string>;
  at: Generated<Date>;
  account_id: string | null;
  event: string;
  step: string | null;
  result: string;
  reason: string | null;
  client_id: string | null;
  flow_uid: string | null;
  ip: string | null;
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
}

export interface ServerSecretsTable {
  name: string;
  value: Json<unknown>;
  created_at: Generated<Date>;
}

export interface OtpChallengesTable {
  flow_uid: string;
  account_id: string;
  destination: string;
  code_hmac: string;
  expires_at: Timestamp;
  attempts: Generated<number>;
  sends: Generated<number>;
  last_sent_at: Timestamp;
  last_send: Generated<string>;
  consumed_at: NullableTimestamp;
  created_at: Generated<Date>;
}

export interface BackupCodesTable {
  id: Generated<string>;
  account_id: string;
  code_hash: string;
  used_at: NullableTimestamp;
  created_at: Generated<Date>;
}

export interface AccountFactorsTable {
  account_id: string;
  factor: string;
  enrolled_at: Timestamp;
  last_used_at: NullableTimestamp;
}

export interface TotpCredentialsTable {
  account_id: string;
  sealed_secret: string;
  last_step: number | null;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
}

export interface PasskeyCredentialsTable {
  id: string;
  account_id: string;
  public_key: Uint8Array;
  /** bigint: read as a string. */
  counter: ColumnType<string, number, number>;
  transports: string[];
  backed_up: boolean;
  device_type: string;
  name: string;
  created_at: Timestamp;
  last_used_at: NullableTimestamp;
}

export interface SmsMessagesTable {
  id: Generated<string>;
  at: Timestamp;
  account_id: string | null;
  flow_uid: string | null;
  ip: string | null;
  purpose: string;
  destination: string;
  status: string;
  http_status: number | null;
  provider_message_id: string | null;
  error: string | null;
  duration_ms: number | null;
  // The pumping defences' keys (an HMAC of the number, its prefix, its country), back-off, conversion.
  number_key: string | null;
  prefix: string | null;
  country: string | null;
  next_send_at: NullableTimestamp;
  entered_at: NullableTimestamp;
  /** The provider that took the message (`sms.gateways[].name`); null before there were several. */
  gateway: string | null;
  /** What the provider's delivery receipts said last: queued, sent, delivered, undelivered, failed. */
  delivery: string | null;
  delivery_at: Timestamp | null;
}

/** A prefix or country the pumping breaker or an operator paused (or resumed: `paused` false). */
export interface SmsPausesTable {
  scope: 'prefix' | 'country';
  range: string;
  paused: boolean;
  reason: string;
  sent: number | null;
  entered: number | null;
  changed_at: Timestamp;
  judged_from: Timestamp;
}

export interface UpstreamProvidersTable {
  name: string;
  settings: Json<Record<string, unknown>>;
  /** Sealed (src/shared/keys.ts, bound to the name) unless `secret_sealed` is false: a row of an older Keystep, sealed at the next start. */
  client_secret: string | null;
  secret_sealed: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface FederatedLinksTable {
  provider: string;
  /** The provider's issuer when the link was made: a link is found only while the provider has it (null: a link of an older Keystep, set at the next start). */
  issuer: string | null;
  subject: string;
  account_id: string;
  created_at: Generated<Date>;
}

export interface Database {
  accounts: AccountsTable;
  password_failures: PasswordFailuresTable;
  clients: ClientsTable;
  oidc_payloads: OidcPayloadsTable;
  login_flows: LoginFlowsTable;
  auth_events: AuthEventsTable;
  server_secrets: ServerSecretsTable;
  otp_challenges: OtpChallengesTable;
  backup_codes: BackupCodesTable;
  totp_credentials: TotpCredentialsTable;
  account_factors: AccountFactorsTable;
  passkey_credentials: PasskeyCredentialsTable;
  sms_messages: SmsMessagesTable;
  upstream_providers: UpstreamProvidersTable;
  federated_links: FederatedLinksTable;
  sms_pauses: SmsPausesTable;
}

export type AccountRow = Selectable<AccountsTable>;
export type ClientRow = Selectable<ClientsTable>;
export type LoginFlowRow = Selectable<LoginFlowsTable>;
export type OtpChallengeRow = Selectable<OtpChallengesTable>;
