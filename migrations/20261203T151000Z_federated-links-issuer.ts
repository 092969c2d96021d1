import { sql, type Kysely } from 'kysely';

// A link holds for the issuer it was made at: a provider's name pointed at another issuer (its
// subjects are that issuer's own) does not inherit the links. Links of providers of `idp add` get
// their issuer here; those of the config file's providers at the next start (a migration does
// not read the config), from the issuer the provider has then.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('federated_links').addColumn('issuer', 'text').execute();
  await sql`update federated_links l set issuer = p.settings->>'issuer' from upstream_providers p where p.name = l.provider`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('federated_links').dropColumn('issuer').execute();
}
