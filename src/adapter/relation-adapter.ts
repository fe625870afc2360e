/**
 * The storage contract. A {@link RelationAdapter} stores rows; the `RelatedManager` owns every
 * rule (validation, key coercion, de-duplication, diffs, mirror rows, events, transactions).
 *
 * Adapters receive clean input only: keys already coerced to the model's key type and
 * de-duplicated, non-empty key lists, known column names, and specs resolved at definition time.
 * Each method is one set-oriented operation, which an SQL adapter runs as one statement
 * (or a few chunks of one statement when bind-parameter limits require it).
 */

import type { TableDescription } from '../schema/table-description.js'
/** A primary-key value, coerced to the model's key type. */
export type Key = string | number | bigint

/** How a model's primary key is typed and coerced. */
export type KeyType = 'integer' | 'bigint' | 'string' | 'uuid'

/** A row as stored: column name to value. */
export type Row = Record<string, unknown>

/** A table holding the rows of a model (the source or target of a relation). */
export interface TableSpec {
  /** The model name, for messages (`Publication`). */
  readonly model: string
  /** The table name. */
  readonly table: string
  /** The primary key column. */
  readonly primaryKey: string
  /** How the primary key is typed. */
  readonly keyType: KeyType
  /** The declared columns, when the model declares them. */
  readonly columns: readonly string[] | undefined
}

/**
 * One direction of a many-to-many relation, resolved at definition time: the manager's
 * source is `source`, the objects it manages are `target`, and the join table links them
 * through `sourceColumn` and `targetColumn`. The reverse manager gets the same join table
 * with the columns swapped.
 */
export interface LinkSpec {
  /** The join (through) table. */
  readonly table: string
  /** The join table's own primary key column, if it has one (an auto join table has `id`). */
  readonly primaryKey: string | undefined
  /** The column holding the source key. */
  readonly sourceColumn: string
  /** The column holding the target key. */
  readonly targetColumn: string
  /** Every column of the join table that throughline knows, link columns included. */
  readonly columns: readonly string[]
  /**
   * Whether `(sourceColumn, targetColumn)` is unique in storage. When true, `insertLinks` must
   * ignore rows that already exist (`ON CONFLICT DO NOTHING`), which makes concurrent adds safe.
   */
  readonly unique: boolean
  /**
   * The join table's other foreign keys (an `inviter_id`), with the table each points at:
   * a value given for one must be a key of that table.
   */
  readonly references: readonly {
    /** The join table's column (`inviter_id`). */
    readonly column: string
    /** The table whose primary key that column holds. */
    readonly target: TableSpec
  }[]
  /** The model whose key is in `sourceColumn`. */
  readonly source: TableSpec
  /** The model whose key is in `targetColumn`. */
  readonly target: TableSpec
}

/** The lookups `filter()` supports, on target columns. */
export type LookupOperator =
  | 'exact'
  | 'iexact'
  | 'in'
  | 'startswith'
  | 'istartswith'
  | 'endswith'
  | 'iendswith'
  | 'contains'
  | 'icontains'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'range'
  | 'isnull'

/**
 * One condition on a target column. Values are already validated for the operator:
 * `in` has a non-empty array, `isnull` a boolean, the string lookups a string, and `exact`
 * and `iexact` never null (null becomes `isnull: true`).
 *
 * The case-insensitive lookups (`iexact`, `istartswith`, `iendswith`, `icontains`) fold ASCII
 * letters only: `A`-`Z` match `a`-`z`, and every other character matches itself alone (`Ä` is
 * not `ä`). Their value arrives already folded (no `A`-`Z` left in it); the adapter folds the
 * column's value the same way (`A`-`Z` to `a`-`z`, nothing else) and then compares as the
 * case-sensitive lookup does: by code unit, with `%`, `_` and `\` as plain characters.
 */
export interface Condition {
  /** The column the condition is on, already checked to exist (`title`). */
  readonly column: string
  /**
   * The lookup: `exact`, `in`, `isnull`, a string lookup or a comparison. Never `range`, which
   * the manager hands over as `gte` and `lte` (Django's `BETWEEN`, both ends included).
   */
  readonly op: Exclude<LookupOperator, 'range'>
  /** The value compared with, of the shape `op` takes (see above). */
  readonly value: unknown
}

/** One ordering term on a target column, or on a join table column. */
export interface OrderTerm {
  /** The column to sort by. */
  readonly column: string
  /** Ascending, or descending (`'-title'` in `orderBy()`). */
  readonly direction: 'asc' | 'desc'
  /**
   * `true`: `column` is a column of the join table (`link.table`), not of the target table:
   * `orderBy('-through__created_at')`, the most recent link first. Only in the `orderBy` of a
   * target read (`TargetQuery`), where each row comes from one link row; nulls order as on
   * target columns.
   */
  readonly through?: boolean
}

/**
 * A read of the targets linked from one source. Conditions are ANDed. `orderBy` always ends
 * with the target primary key, so that every adapter returns the same order.
 */
export interface TargetQuery {
  /** Conditions on the target rows, all of which must hold. */
  readonly where: readonly Condition[]
  /**
   * Groups of conditions on the target rows (Django's `exclude()`, one group per call): a row
   * is left out when it meets every condition of a group. A condition on a null column is not
   * met, so `NOT (rank = 1)` keeps a row whose rank is null, as Django's `exclude(rank=1)`
   * does (SQL adapters write each condition of a group as `(condition AND column IS NOT NULL)`,
   * `isnull` ones aside). Each group has at least one condition and no empty `in` list; most
   * reads have none, and `prefetchTargets` never gets any.
   */
  readonly exclude: readonly (readonly Condition[])[]
  /** Order of the rows, ending with the target primary key. */
  readonly orderBy: readonly OrderTerm[]
  /** The most rows to return, or `undefined` for all of them. */
  readonly limit: number | undefined
  /** How many rows to skip first (after ordering), or `undefined` for none. */
  readonly offset: number | undefined
}

/** Input of {@link RelationAdapter.probeLinks}. */
export interface ProbeLinksInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /** The key of the source whose links are probed. */
  readonly source: Key
  /**
   * Target keys to check for existence (and, with scope `'targets'`, for links). Never empty
   * with scope `'targets'`; may be empty with scope `'all'` (`set([])` reads the current links).
   */
  readonly targets: readonly Key[]
  /**
   * `'targets'`: `linked` lists which of `targets` are linked from `source`.
   * `'all'`: `linked` lists every target key linked from `source`, given or not.
   */
  readonly scope: 'targets' | 'all'
}

/** Result of {@link RelationAdapter.probeLinks}. */
export interface ProbeLinksResult {
  /**
   * Whether `source` has a row in the source table. The manager refuses to link from a source
   * with no row, whether or not the join table has a foreign key that would.
   */
  readonly sourceExists: boolean
  /** The keys of `targets` that have a row in the target table. */
  readonly existing: readonly Key[]
  /** Linked target keys, per the requested scope. */
  readonly linked: readonly Key[]
}

/** Input of {@link RelationAdapter.insertLinks}. */
export interface InsertLinksInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /**
   * `[sourceKey, targetKey]` pairs, distinct, to write into `sourceColumn` and `targetColumn`,
   * mirror pairs of a symmetrical relation included, sorted by source key then target key.
   * Insert them in this order (it keeps concurrent inserts from deadlocking).
   */
  readonly pairs: readonly (readonly [Key, Key])[]
  /** Extra column values shared by every inserted row (through defaults, resolved). */
  readonly values: Readonly<Row>
  /**
   * Whether the caller needs the number of rows inserted (`toggle()` does). An adapter whose
   * count costs something (knex on SQLite needs `RETURNING`) may skip it when this is not `true`.
   */
  readonly count?: boolean
  /**
   * Let the database's foreign keys refuse a pair whose source or target row is missing: the
   * statement fails (`M2M_CONSTRAINT_VIOLATION`) and writes nothing, where it would otherwise
   * skip the pair. The manager asks for it only outside a transaction, after
   * {@link RelationAdapter.foreignKeysEnforced} said yes; an adapter whose foreign keys are no
   * longer enforced when the statement runs (a pragma turned off since) must still skip such
   * a pair rather than store it.
   */
  readonly refuseMissing?: boolean
}

/** Input of {@link RelationAdapter.deleteLinks}. */
export interface DeleteLinksInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /** The key of the source whose links are deleted. */
  readonly source: Key
  /** The target keys to unlink, or `undefined` to unlink every target of `source`. */
  readonly targets: readonly Key[] | undefined
  /** Also delete the mirror rows `(target, source)` of a symmetrical relation. */
  readonly mirror: boolean
  /**
   * With `targets` undefined: unlink every target of `source` except these, in one statement
   * (`DELETE … AND target NOT IN (…)`, set()'s first statement when it reads nothing). Sent only
   * to an adapter whose `foreignKeysEnforced` said true, never with `mirror`, with at most
   * 100 000 keys.
   */
  readonly keep?: readonly Key[]
}

/** Input of the target reads. */
export interface SelectTargetsInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /** The key of the source whose linked targets are read. */
  readonly source: Key
  /** Conditions, order and page of the targets. */
  readonly query: TargetQuery
}

/** One row of {@link RelationAdapter.selectLinkedTargets}: a target row and the link row it comes from. */
export interface LinkedRow {
  /** The target row, every column of the target table. */
  readonly row: Row
  /** The join table's row that links it: the columns of `link.columns`, link keys in their key types. */
  readonly through: Row
}

/** Input of {@link RelationAdapter.selectThroughRows}. */
export interface SelectThroughRowsInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /** The key of the source whose join table rows are read. */
  readonly source: Key
  /** Only the rows linking to these targets, or every row of `source` when `undefined`. */
  readonly targets: readonly Key[] | undefined
}

/** Input of {@link RelationAdapter.prefetchTargets}. */
export interface PrefetchTargetsInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /** The sources whose targets to read, distinct and non-empty. */
  readonly sources: readonly Key[]
  /**
   * Conditions and order of the targets. `limit`, when given, is the most rows of each source
   * (its first in `orderBy` order; SQL adapters rank them with `ROW_NUMBER() OVER (PARTITION BY
   * source ORDER BY …)`); `offset` is always `undefined`.
   */
  readonly query: TargetQuery
}

/** One row of {@link RelationAdapter.prefetchTargets}: a target row and the source it is linked from. */
export interface PrefetchedRow {
  /** The key of the source the target is linked from. */
  readonly source: Key
  /** The target row, every column of the target table. */
  readonly row: Row
}

/** Input of {@link RelationAdapter.countLinks}. */
export interface CountLinksInput {
  /** The relation's join table and the tables on both sides. */
  readonly link: LinkSpec
  /** The sources whose links are counted, distinct and non-empty. */
  readonly sources: readonly Key[]
  /** Conditions on the linked rows (`link.target`), all of which a counted link's row meets. */
  readonly related: readonly Condition[]
  /** Conditions on the join table's columns, all of which a counted link row meets. */
  readonly through: readonly Condition[]
  /**
   * `false`: count the link rows (a pair stored twice counts twice, as `countTargets` does).
   * `true`: count the distinct target keys among them (Django's `Count(..., distinct=True)`).
   */
  readonly distinct: boolean
}

/** One entry of {@link RelationAdapter.countLinks}. */
export interface LinkCount {
  /** The source key, as given in `sources`. */
  readonly source: Key
  /** How many of its links meet the conditions. */
  readonly count: number
}

/**
 * Conditions one link meets, all together: on the linked row (`link.target`) and on the join
 * table's row. A link whose target row is missing meets none.
 */
export interface LinkConditions {
  /** Conditions on the linked rows (`link.target`). */
  readonly related: readonly Condition[]
  /** Conditions on the join table's columns. */
  readonly through: readonly Condition[]
  /**
   * Whether a source with no link row at all meets them too, as if it had one link whose every
   * column is null: Django's LEFT JOIN for `isnull=True` and `=None` across a relation
   * (`Group.objects.filter(members__id__isnull=True)` matches the groups without members). The
   * manager sets it when there is at least one condition and every one is `isnull: true`, so
   * an adapter never reasons about nulls: it also accepts the sources with no link row.
   */
  readonly unlinked: boolean
}

/**
 * A read of the rows of `link.source` (the side returned) by what they are linked to: the
 * Django `Article.objects.filter(publications__title__startswith="S")` family.
 */
export interface SourceQuery {
  /** Conditions on the returned rows themselves. */
  readonly where: readonly Condition[]
  /**
   * What the links of a row must meet, never empty. A row *meets* an entry when one of its
   * links meets it (or, with `unlinked`, when it has no link row). With `'join'` there is exactly
   * one entry; with `'exists'` and `'not-exists'` every entry is met by a link of its own, not
   * necessarily the same one (Django's `exclude(a__x=1, a__y=2)`: each condition is its own
   * subquery).
   */
  readonly links: readonly LinkConditions[]
  /**
   * `'join'`: one row per link meeting `links[0]` (a source linked to two matching targets
   * comes twice, as Django's query without `distinct()`), and one row for each source with no
   * link row when `unlinked` (a LEFT JOIN). `'exists'`: each source meeting every entry of
   * `links`, once. `'not-exists'`: each source that does not meet every entry, once (Django's
   * `exclude()`: `NOT (EXISTS (…) AND EXISTS (…))`).
   */
  readonly mode: 'join' | 'exists' | 'not-exists'
  /** Order of the returned rows; it always ends with their primary key. */
  readonly orderBy: readonly OrderTerm[]
  /** The most rows to return, or `undefined` for all of them. */
  readonly limit: number | undefined
  /** How many rows to skip first (after ordering), or `undefined` for none. */
  readonly offset: number | undefined
}

/** Input of the source reads. */
export interface SelectSourcesInput {
  /** The relation, oriented so that `link.source` is the side whose rows are returned. */
  readonly link: LinkSpec
  /** Conditions on those rows and on their links; order and page. */
  readonly query: SourceQuery
}

/** Input of {@link RelationAdapter.insertTarget}. */
export interface InsertTargetInput {
  /** The table to insert into. */
  readonly target: TableSpec
  /** The row's column values; the primary key may be absent, for the table to generate it. */
  readonly values: Readonly<Row>
}

/** Input of {@link RelationAdapter.updateTargets}. */
export interface UpdateTargetsInput {
  /** The table to update. */
  readonly target: TableSpec
  /** The primary keys of the rows to update. */
  readonly keys: readonly Key[]
  /** The columns to set, with their new values, the same for every row. */
  readonly values: Readonly<Row>
}

/**
 * What an adapter can do, declared rather than probed. The conformance suite skips tests
 * only by these flags, and says so.
 */
export interface AdapterCapabilities {
  /**
   * Whether a failed transaction leaves nothing behind. The manager runs every write call
   * in one transaction; an adapter without real transactions cannot promise atomic calls.
   */
  readonly transactions: boolean
  /** The most bind parameters one statement may carry, used to size chunks. `Infinity` if unlimited. */
  readonly maxBindParameters: number
  /**
   * Whether `insertLinks` resolves to the number of rows it inserted (the pairs it skipped as
   * already there, or as having no row, not counted). The manager then toggles and creates
   * without a read: DELETE, else INSERT, and a count of 0 sends it to read why (another caller
   * linked the pair in between, or a row is missing). Without it, those calls read first.
   */
  readonly countsInserts: boolean
  /**
   * Whether the storage runs one writing statement at a time, so that no other caller's
   * statement meets the rows of one of ours half written (SQLite, whose database takes one
   * writer at a time; the memory adapter). The manager then writes a symmetrical link's two
   * rows with one statement and no transaction, as a one-row link. Without it (PostgreSQL,
   * MySQL: concurrent statements meet those rows one at a time, and an `INSERT` of both could
   * store one of them only), it writes them in a `SERIALIZABLE` transaction. Default `false`.
   */
  readonly serialStatements?: boolean
}

/**
 * Options of {@link RelationAdapter.transaction}. Both apply only to a transaction the adapter
 * opens itself, never to a savepoint inside the caller's transaction.
 */
export interface TransactionOptions {
  /**
   * `'serializable'`: the transaction must behave as if it ran alone. Databases keep that
   * promise by aborting one of two conflicting transactions (a serialization failure or a
   * deadlock), not by making every transaction wait for the others.
   */
  readonly isolation?: 'serializable'
  /**
   * Whether `work` may be run again, in a new transaction, when the database aborted it for a
   * conflict with another (per the adapter's retry policy, `RetryPolicy`). The manager's calls can
   * always be run again: they re-read what they decide from, and their events are sent again.
   */
  readonly retry?: boolean
  /**
   * Whether calls made on the root adapter from inside `work` join this transaction (code other
   * than the manager's runs there: a listener, the caller's work). Default `true`. The manager
   * passes `false` when no listener runs inside, so that the adapter need not track the async
   * context (see `TransactionContext`), which slows every promise of the process while it is on.
   */
  readonly joinable?: boolean
}

/**
 * The storage contract every adapter implements. All methods are async and take one object
 * argument. See `docs/adapters.md` for the rules and `throughline/conformance` for the suite
 * that proves an adapter follows them.
 */
export interface RelationAdapter {
  /** A short name for messages and test titles, such as `'memory'` or `'knex(pg)'`. */
  readonly name: string
  /** What this adapter supports. */
  readonly capabilities: AdapterCapabilities
  /**
   * The number of statements this adapter (and the transactions it opened) has run so far.
   * Tests read it to assert statement budgets.
   */
  readonly statementCount: number
  /**
   * Whether this adapter's statements run inside a transaction: the caller's (a Knex
   * transaction passed in, a `BEGIN` of the caller's own) or one the adapter opened. The
   * manager then takes a savepoint around every write call, even one of a single statement:
   * on PostgreSQL a failed statement aborts the whole transaction, and the caller's `COMMIT`
   * would silently roll back what came before it.
   */
  readonly inTransaction: boolean

  /**
   * Runs `work` in a transaction and commits when it resolves, rolls back when it rejects.
   * Called on an adapter that is already inside a transaction, it opens a savepoint, so
   * that a failed call inside the caller's transaction undoes only its own writes.
   */
  transaction<R>(work: (adapter: RelationAdapter) => Promise<R>, options?: TransactionOptions): Promise<R>

  /** One read: which targets exist, and which are linked from `source`. */
  probeLinks(input: ProbeLinksInput): Promise<ProbeLinksResult>
  /**
   * Inserts link rows. With `link.unique`, rows that already exist are skipped, never an error.
   * A pair whose source or target row does not exist is never stored, even in a join table
   * without foreign keys: it is skipped (as an existing pair is; SQL adapters insert with
   * `INSERT … SELECT … WHERE EXISTS`) or refused with `M2M_CONSTRAINT_VIOLATION`. An adapter
   * that cannot do either without a foreign key must not claim `countsInserts`: the manager
   * then reads before every insert. Resolves to how many rows were inserted when
   * `capabilities.countsInserts` and the input asks for it (`count: true`); otherwise it may
   * resolve to `undefined`. Atomic on its own, as `deleteLinks`.
   */
  insertLinks(input: InsertLinksInput): Promise<number | undefined>
  /**
   * Deletes link rows and resolves to how many rows were deleted. Atomic on its own: the
   * manager calls it outside a transaction (`remove()` and `clear()` with no listener), where
   * an adapter that splits it into several statements must run them in one transaction.
   */
  deleteLinks(input: DeleteLinksInput): Promise<number>

  /** The target rows linked from `source`, in `query.orderBy` order, one per link row. */
  selectTargets(input: SelectTargetsInput): Promise<Row[]>
  /**
   * The rows `selectTargets` would return, in the same order, each with the join table row it
   * comes from (a target linked twice comes twice, each time with its own link row): one
   * statement, the join table's columns selected beside the target's under aliases of the
   * adapter's choosing.
   */
  selectLinkedTargets(input: SelectTargetsInput): Promise<LinkedRow[]>
  /** The keys of the target rows `selectTargets` would return, in the same order. */
  selectTargetKeys(input: SelectTargetsInput): Promise<Key[]>
  /** How many rows `selectTargets` would return, ignoring `limit`, `offset` and `orderBy`. */
  countTargets(input: SelectTargetsInput): Promise<number>
  /** The join rows of `source`, with every column, in join-table primary key order when there is one. */
  selectThroughRows(input: SelectThroughRowsInput): Promise<Row[]>

  /**
   * The target rows linked from each of `sources`, each with its source key, each source's rows
   * in `query.orderBy` order, at most `query.limit` of each: prefetching for many sources in one
   * statement.
   */
  prefetchTargets(input: PrefetchTargetsInput): Promise<PrefetchedRow[]>
  /**
   * How many links of each of `sources` meet the conditions, in one statement (a `GROUP BY`
   * of the join table joined to the target table; chunks when bind limits require). A link
   * whose target row is missing is not counted, as `countTargets` counts it not. Sources with
   * no counted link may be left out (the manager answers 0 for them); order is free.
   */
  countLinks(input: CountLinksInput): Promise<LinkCount[]>
  /** The rows of `link.source` selected by `query` (see {@link SourceQuery}). */
  selectSources(input: SelectSourcesInput): Promise<Row[]>
  /** The keys of the rows `selectSources` would return, in the same order. */
  selectSourceKeys(input: SelectSourcesInput): Promise<Key[]>
  /** How many rows `selectSources` would return, ignoring `limit`, `offset` and `orderBy`. */
  countSources(input: SelectSourcesInput): Promise<number>

  /** Inserts one target row and resolves to it as stored, generated key included. */
  insertTarget(input: InsertTargetInput): Promise<Row>
  /** Updates target rows by key and resolves to how many rows changed. */
  updateTargets(input: UpdateTargetsInput): Promise<number>

  /**
   * Optional: what the database says about a table (columns, primary key, unique sets,
   * foreign keys), or `undefined` when there is no such table. `relation.check()` compares it
   * with the relation; an adapter without it cannot be checked. Read the catalog only: the
   * comparison rules are the core's.
   */
  describeTable?(table: string): Promise<TableDescription | undefined>
  /**
   * Optional: whether the database itself refuses a row of `link.table` whose source or target
   * row is missing, at the end of a statement run outside a transaction: a foreign key from each
   * of the two key columns to its table's key, enforced on this connection. Read from the
   * catalog the first time (not counted in `statementCount`, as `describeTable`'s reads are not)
   * and remembered by the adapter (and the
   * adapters of its transactions). When it says yes, `add()` with no listener, outside a
   * transaction, sends one `insertLinks` with `refuseMissing` and nothing else: no read, no
   * `BEGIN`/`COMMIT`; a refused row is explained by one read afterwards.
   */
  foreignKeysEnforced?(link: LinkSpec): Promise<boolean>
}
