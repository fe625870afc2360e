import { KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { kyselyTargets } from '../helpers/kysely-targets.js'
import { runLibraryConformance } from '../helpers/library-targets.js'

// The whole conformance suite on KyselyAdapter, on every database the Knex suite runs on:
// SQLite always (again on join tables without foreign keys), PostgreSQL and MySQL/MariaDB when
// their URLs are set. On the servers the suite runs in `npm run test:long` (THROUGHLINE_LONG=1),
// both table styles, which keeps `npm test` under five minutes: the Knex suite already runs
// there on the same servers, and SQLite proves the adapter.
const long = process.env.THROUGHLINE_LONG === '1'
if (!long) console.info('[kysely conformance] PostgreSQL and MariaDB: in npm run test:long (THROUGHLINE_LONG=1).')

runLibraryConformance('kysely', kyselyTargets, (db) => new KyselyAdapter(db), { servers: long, sqliteWithoutForeignKeys: true })
