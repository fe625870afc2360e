import { KyselyAdapter } from '../../src/adapters/kysely/index.js'
import { kyselyTargets } from '../helpers/kysely-targets.js'
import { runLibraryConformance } from '../helpers/library-targets.js'

// The whole conformance suite on KyselyAdapter, on every database the Knex suite runs on:
// SQLite always, PostgreSQL and MySQL/MariaDB when their URLs are set. On the servers, and on
// join tables without foreign keys, the suite runs in `npm run test:long` (THROUGHLINE_LONG=1),
// which keeps `npm test` under five minutes: `npm test` runs the Knex suite on the servers and
// on SQLite without foreign keys, whose statements (src/adapters/sql/sql-dialect.ts) are this
// adapter's, and SQLite here proves the Kysely driver.
const long = process.env.THROUGHLINE_LONG === '1'
if (!long) console.info('[kysely conformance] PostgreSQL, MariaDB and the tables without foreign keys: in npm run test:long (THROUGHLINE_LONG=1).')

runLibraryConformance('kysely', kyselyTargets, (db) => new KyselyAdapter(db), { servers: long, sqliteWithoutForeignKeys: long })
