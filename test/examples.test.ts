import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
// The reporter scripts/run-examples.mjs gives every example: a summary line, failures in full.
const reporter = `--test-reporter=${join(root, 'scripts', 'test-summary-reporter.mjs')}`

/** Runs one example as `npm run examples` does and returns what it printed. */
function run(name: string): string {
  const result = spawnSync(process.execPath, [reporter, '--import', './scripts/ts-node.mjs', `examples/${name}.ts`], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
    timeout: 120_000,
  })
  expect(result.stderr).toBe('')
  expect(result.status).toBe(0)
  return result.stdout
}

describe('examples', () => {
  it('favorites.ts toggles from both sides and over HTTP', () => {
    const output = run('favorites')
    expect(output).toContain('bob likes "Django at scale": true')
    expect(output).toContain('toggle again -> liked: false')
    expect(output).toContain('fans of "Django at scale": alice')
    expect(output).toContain("rows in favorite_interview after adding alice's like three more times: 1")
    expect(output).toContain('POST /interviews/1/favorite as user 2 -> 200 {"liked":true,"fans":2}')
    expect(output).toContain('POST /interviews/1/favorite as user 2 -> 200 {"liked":false,"fans":1}')
    expect(output).toContain('POST /interviews/999/favorite as user 2 -> 404 {"error":"no such interview"}')
    expect(output).toContain('POST /interviews/abc/favorite as user 2 -> 400')
    expect(output).toContain('POST /interviews/1/favorite as nobody -> 401')
    expect(output).toContain('GET /interviews/1/favorite as user 2 -> 405')
    expect(output).toContain('"Django at scale": 2 hearts, liked by bob')
    expect(output).toContain('"Hiring juniors": 1 heart, liked by bob')
    expect(output).toContain('"SQLite in production": 0 hearts\n')
    expect(output).toContain('bob liked "Django at scale" at 2026-03-02T18:30:00.000Z\n   bob liked "Hiring juniors" at 2026-03-01T09:00:00.000Z')
    expect(output).toContain('latest fans of "Django at scale": bob, alice')
    expect(output).toContain('latest fan of "Django at scale": bob\n   latest fan of "Hiring juniors": bob\n   latest fan of "SQLite in production": (none)')
  })

  it('shops.ts covers collectors, the unsaved errors, collect_at, throughFields and followers', () => {
    const output = run('shops')
    expect(output).toContain('kfc.collectors.all(): alice, bob')
    expect(output).toContain('bob.shops.all(): kfc')
    expect(output).toContain('kfc.collectors.add(carol) -> M2M_UNSAVED_TARGET')
    expect(output).toContain('burger_king.collectors -> M2M_UNSAVED_SOURCE')
    expect(output).toContain('ShopCollector shop=1 account=2 collect_at is set: true')
    expect(output).toContain('without throughFields -> M2M_INVALID_DEFINITION')
    expect(output).toContain('dave collects kfc, invited by account 1 (alice is 1)')
    expect(output).toContain('symmetrical (the default): alice.followers = bob; bob.followers = alice')
    expect(output).toContain('symmetrical=False: alice.follows = bob; bob.follows = (none)')
    expect(output).toContain('the reverse side: bob.followees = alice')
  })

  it("publications.ts prints what Django's walk-through prints", () => {
    const lines = run('publications').split('\n')
    // The answer printed after a Django statement.
    const after = (statement: string, occurrence = 0): string | undefined => {
      const indexes = lines.flatMap((line, index) => (line === `>>> ${statement}` ? [index] : []))
      const index = indexes[occurrence]
      return index === undefined ? undefined : lines[index + 1]
    }
    expect(after('a1.publications.add(p1)')).toMatch(/^UnsavedInstanceError \(M2M_UNSAVED_SOURCE\): .*needs a value for "id" before this many-to-many relationship can be used\.$/)
    expect(after('a2.publications.add(a1)  # adding an object of the wrong type raises TypeError')).toMatch(/^WrongModelError \(M2M_WRONG_MODEL\): Publication instance expected/)
    expect(after('a1.publications.all()')).toBe('<QuerySet [<Publication: The Python Journal>]>')
    expect(after('a2.publications.all()')).toBe(
      '<QuerySet [<Publication: Highlights for Children>, <Publication: Science News>, <Publication: Science Weekly>, <Publication: The Python Journal>]>',
    )
    expect(after('p2.article_set.all()')).toBe('<QuerySet [<Article: NASA uses Python>]>')
    expect(after('p1.article_set.all()')).toBe('<QuerySet [<Article: Django lets you build web apps easily>, <Article: NASA uses Python>]>')
    expect(after('Publication.objects.get(id=4).article_set.all()')).toBe('<QuerySet [<Article: NASA uses Python>]>')
    const both = '<QuerySet [<Article: Django lets you build web apps easily>, <Article: NASA uses Python>]>'
    const four = '<QuerySet [<Publication: Highlights for Children>, <Publication: Science News>, <Publication: Science Weekly>, <Publication: The Python Journal>]>'
    expect(after('Article.objects.filter(publications__id=1)')).toBe(both)
    expect(after('Article.objects.filter(publications=p1)')).toBe(both)
    expect(after('Article.objects.filter(publications__title__startswith="Science")')).toBe('<QuerySet [<Article: NASA uses Python>, <Article: NASA uses Python>]>')
    expect(after('Article.objects.filter(publications__title__startswith="Science").distinct()')).toBe('<QuerySet [<Article: NASA uses Python>]>')
    expect(after('Article.objects.filter(publications__title__startswith="Science").count()')).toBe('2')
    expect(after('Article.objects.filter(publications__title__startswith="Science").distinct().count()')).toBe('1')
    expect(after('Article.objects.filter(publications__in=[p1, p2]).distinct()')).toBe(both)
    expect(after('Publication.objects.filter(article__headline__startswith="NASA")')).toBe(four)
    expect(after('Publication.objects.filter(article=a1)')).toBe('<QuerySet [<Publication: The Python Journal>]>')
    expect(after('Publication.objects.filter(article__in=[a1, a2]).distinct()')).toBe(four)
    expect(after('Article.objects.exclude(publications=p2)')).toBe('<QuerySet [<Article: Django lets you build web apps easily>]>')
    expect(after('a1 = Article.objects.get(pk=1); a1.publications.all()')).toBe('<QuerySet []>')
    expect(after('a2.delete(); p2.article_set.all()')).toBe('<QuerySet []>')
    expect(after('a5 = p2.article_set.all()[1]; a5.publications.all()')).toBe('<QuerySet [<Publication: Science News>]>')
    expect(after('a4.publications.set([p3])')).toBe('>>> a4.publications.all()')
    expect(after('a4.publications.all()', 3)).toBe('<QuerySet [<Publication: Science Weekly>]>')
    expect(after('a4.publications.all()', 4)).toBe('<QuerySet [<Publication: Science News>, <Publication: Science Weekly>]>')
    expect(after('Publication.objects.all()')).toBe('<QuerySet [<Publication: Highlights for Children>, <Publication: The Python Journal>]>')
    expect(after('a2.publications.all()', 1)).toBe('<QuerySet [<Publication: The Python Journal>]>')
    expect(after('p1.article_set.all()', 1)).toBe('<QuerySet [<Article: NASA uses Python>]>')
  })

  it('related-manager.ts shows every method with through defaults and events', () => {
    const output = run('related-manager')
    expect(output).toContain('m2m_changed: pre_add pk_set={}')
    expect(output).toContain('-> cheese (normal), ham (extra)')
    expect(output).toContain('-> cheese (normal), ham (extra), mushroom (light)')
    expect(output).toContain('m2m_changed: pre_remove pk_set={2, 999}')
    expect(output).toContain('m2m_changed: pre_clear pk_set=None')
    expect(output).toContain('set([cheese, basil])                 -> cheese (light), basil (extra)  (cheese keeps its row)')
    expect(output).toContain('set([cheese, basil], clear=True)     -> cheese (extra), basil (extra)  (every row written again)')
    expect(output).toContain('m2m_changed: pre_remove (reverse) pk_set={1}')
  })

  it('custom-adapter.ts passes the whole conformance suite under node:test, in two lines', () => {
    const output = run('custom-adapter')
    expect(output).toMatch(/^node:test: \d{3} passed, 0 failed \(\d+ suites, [\d.]+ s\)$/m)
    expect(output).toContain('updateTargets')
    expect(output.trim().split('\n')).toHaveLength(2)
  })

  it("the examples' test reporter prints each failure in full, and fails the run", () => {
    const directory = mkdtempSync(join(tmpdir(), 'throughline-reporter-'))
    try {
      writeFileSync(
        join(directory, 'failing.mjs'),
        [
          "import { describe, it } from 'node:test'",
          "import assert from 'node:assert/strict'",
          "describe('suite', () => {",
          "  it('passes', () => {})",
          "  it('compares', () => { assert.deepEqual({ kept: 1 }, { kept: 2 }) })",
          '})',
        ].join('\n'),
      )
      const result = spawnSync(process.execPath, [reporter, 'failing.mjs'], { cwd: directory, encoding: 'utf8', timeout: 60_000 })
      expect(result.status).toBe(1)
      expect(result.stdout).toContain('not ok: suite › compares')
      expect(result.stdout).toContain('Expected values to be strictly deep-equal')
      expect(result.stdout).toMatch(/at .*failing\.mjs:5:/)
      expect(result.stdout).toMatch(/^node:test: 1 passed, 1 failed \(1 suites, [\d.]+ s\)$/m)
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })

  it('postgres.ts toggles on PostgreSQL, or says why it skipped', () => {
    const output = run('postgres')
    if (process.env.PG_URL === undefined || process.env.PG_URL === '') {
      expect(output).toContain('PG_URL is not set: skipping the PostgreSQL example')
    } else {
      expect(output).toContain('alice toggles -> liked: true')
      expect(output).toContain('alice toggles -> liked: false')
      expect(output).toContain('fans after ten concurrent adds by bob: bob')
    }
  })

  it('kysely-pglite.ts runs the group memberships on PGlite, or says why it skipped', async () => {
    const output = run('kysely-pglite')
    // Dev dependencies: asked here too, so that a PGlite that stopped loading is not taken for a pass.
    const installed = await Promise.all([import('@electric-sql/pglite'), import('kysely-pglite-dialect')]).then(
      () => true,
      () => false,
    )
    if (!installed) {
      expect(output).toContain('PGlite does not load: skipping the PGlite example')
      return
    }
    expect(output).toMatch(/^PostgreSQL \d+\.\d+ in this process \(PGlite\): no server$/m)
    expect(output).toContain('members.check(): ok (0 warnings)')
    // Two rosters: before set() (Pete, no Ringo) and after (Ringo, no Pete); John's second add
    // changed nothing, so his row keeps its date and reason in both.
    expect(output.match(/ {3}John joined 1960-08-01: Founding member\.$/gm)).toHaveLength(2)
    expect(output.match(/ {3}Pete joined 1960-08-01: \(no reason given\)$/gm)).toHaveLength(1)
    expect(output.match(/ {3}Ringo joined 1962-08-16: Needed a new drummer\.$/gm)).toHaveLength(1)
    expect(output).toContain('paul.groups.all(): The Beatles, Wings')
    expect(output).toContain('wings.members.all(): Paul; date_joined is now: true')
    expect(output).toContain('toggle again -> member: false')
    expect(output).toContain('paul.groups.toggle(999) -> M2M_TARGET_NOT_FOUND')
    expect(output).toContain('Group.objects.filter(membership__invite_reason="Needed a new drummer."): The Beatles')
    expect(output).toContain('Person.objects.filter(membership__date_joined__lt=1961-01-01): George, John, Paul')
    expect(output).toContain('Person.objects.filter(groups__name="The Beatles").count(): 4')
    expect(output).toContain('inside: 5 members, 3 groups')
    expect(output).toContain('after: 4 members (George, John, Paul, Ringo), 2 groups')
  })

  it('drizzle.ts toggles, shows the list page with hearts and rolls back a transaction, on a Drizzle schema', () => {
    const output = run('drizzle')
    expect(output).toContain('liked.check(): ok (0 warnings)')
    expect(output).toContain('bob likes "Django at scale": true (2 statements)')
    expect(output).toContain('toggle again -> liked: false')
    expect(output).toContain('alice\'s hearts: interview 1 ("to watch again"), interview 3 ("to watch again")')
    expect(output).toContain('createdAt is a Date: true')
    expect(output).toContain('toggle(999) -> M2M_TARGET_NOT_FOUND')
    expect(output).toContain('♥ Drizzle in practice (2026-06-15): bob')
    expect(output).toContain('♡ Django at scale (2026-03-01): alice')
    expect(output).toContain('statements: 1 for the interviews (Drizzle), 2 for every fan and heart (throughline)')
    expect(output).toContain("alice's favourites published since June: SQLite everywhere")
    expect(output).toContain('rolled back: changed our minds')
    expect(output).toContain('bob likes: Drizzle in practice')
  })

  it('kysely.ts toggles, lists with prefetch and runs inside a Kysely transaction', () => {
    const output = run('kysely')
    expect(output).toContain('favorites.check(): ok (0 warnings)')
    expect(output).toContain('bob likes "Django at scale": true (2 statements)')
    expect(output).toContain('toggle again -> liked: false')
    expect(output).toContain('fans of "Django at scale": alice')
    expect(output).toContain('toggle(999) -> M2M_TARGET_NOT_FOUND: a 404 for the endpoint')
    expect(output).toContain('Kysely in practice: bob')
    expect(output).toContain('statements: 1 for the interviews, 1 for every fan')
    expect(output).toContain('liked by alice: Django at scale, SQLite everywhere')
    expect(output).toContain('add(404) inside the transaction -> M2M_TARGET_NOT_FOUND; the transaction goes on')
    expect(output).toContain('committed: bob likes Kysely in practice, SQLite everywhere; audit rows: 1')
  })
})
