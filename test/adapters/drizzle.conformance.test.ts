import { DrizzleAdapter } from '../../src/adapters/drizzle/drizzle-adapter.js'
import { drizzleTargets } from '../helpers/drizzle-targets.js'
import { runLibraryConformance } from '../helpers/library-targets.js'

// The whole conformance suite on DrizzleAdapter, on every database the Knex suite runs on:
// SQLite always, PostgreSQL and MySQL/MariaDB when their URLs are set. On the servers, and on
// join tables without foreign keys, the suite runs in `npm run test:long` (THROUGHLINE_LONG=1),
// which keeps `npm test` under five minutes: `npm test` runs the Knex suite on the servers and
// Kysely's on SQLite without foreign keys, whose statements are this adapter's (both are
// FragmentAdapter), and SQLite here proves the Drizzle driver.
const long = process.env.THROUGHLINE_LONG === '1'
if (!long) console.info('[drizzle conformance] PostgreSQL, MariaDB and the tables without foreign keys: in npm run test:long (THROUGHLINE_LONG=1).')

runLibraryConformance('drizzle', drizzleTargets, (db) => new DrizzleAdapter(db), { servers: long, sqliteWithoutForeignKeys: long })
