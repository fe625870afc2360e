import assert from 'node:assert/strict'
import type { RelatedManager } from '../../manager/related-manager.js'
import type { ConformanceOptions } from '../conformance-options.js'
import { itInspecting, useContext, type ConformanceContext } from '../conformance-context.js'
import { useEventLog } from '../fixtures/event-log.js'
import { insertLinkRow, pick } from '../fixtures/link-rows.js'
import {
  favoritedBy,
  favoriteInterviews,
  favoritesSchema,
  Interview,
  SeedUser,
  type FavoriteInterviewRow,
  type InterviewRow,
  type SeedUserRow,
} from '../fixtures/seed-favorites.js'

interface Likes {
  readonly ann: SeedUserRow
  readonly ben: SeedUserRow
  readonly interview: InterviewRow
  readonly other: InterviewRow
}

async function likes(ctx: ConformanceContext): Promise<Likes> {
  const [ann, ben] = await ctx.insertAll(SeedUser, [{ username: 'ann' }, { username: 'ben' }])
  const [interview, other] = await ctx.insertAll(Interview, [{ title: 'Backend interview' }, { title: 'Frontend interview' }])
  return { ann: ann!, ben: ben!, interview: interview!, other: other! }
}

/**
 * The seed's view, written as it is: checks with `filter(pk).exists()`, then removes or adds.
 * Resolves to whether the interview is now a favourite.
 */
async function favoriteView(
  favorites: RelatedManager<typeof SeedUser, typeof Interview, FavoriteInterviewRow>,
  interview: InterviewRow,
): Promise<boolean> {
  if (await favorites.filter({ pk: interview.id }).exists()) {
    await favorites.remove(interview)
    return false
  }
  await favorites.add(interview)
  return true
}

/**
 * Seeds 000 and 001: a favourite button over a User/Interview relation through
 * FavoriteInterview, toggled from the user's side, from the interview's side, and read
 * through the join table itself.
 */
export function seedFavoritesConformance(options: ConformanceOptions): void {
  const { describe, it } = options.test
  describe(`${options.name}: seed favourites (User, Interview, FavoriteInterview)`, () => {
    const context = useContext(options, favoritesSchema)
    const events = useEventLog(options)

    it('toggles a favourite from the user side', async () => {
      const ctx = context()
      const { ann, interview } = await likes(ctx)
      const favorites = ctx.bind(favoriteInterviews).of(ann)
      assert.equal(favoriteInterviews.name, 'favorite_interviews')
      assert.equal(await favorites.toggle(interview), true)
      assert.equal(await favorites.exists(interview), true)
      assert.deepEqual(await favorites.all(), [interview])
      assert.deepEqual(await ctx.bind(favoritedBy).of(interview).all(), [ann])
      assert.equal(await favorites.toggle(interview), false)
      assert.equal(await favorites.exists(interview), false)
      assert.deepEqual(await favorites.all(), [])
      assert.deepEqual(await ctx.bind(favoritedBy).of(interview).all(), [])
    })

    it('tells which interviews of a list page the user likes, in one statement however many', async () => {
      const ctx = context()
      const { ann, interview, other } = await likes(ctx)
      const favorites = ctx.bind(favoriteInterviews).of(ann)
      await favorites.add(other)
      let hearts: unknown[] = []
      // A key with no row, a key given as a string, a row, and one twice: each once, as given.
      const page = [interview.id, String(other.id), 987_654, other, interview]
      assert.equal(await ctx.statements(async () => (hearts = await favorites.linkedAmong(page))), 1)
      assert.deepEqual(hearts, [other.id])
      await favorites.add(interview)
      assert.deepEqual(await favorites.linkedAmong(page), [interview.id, other.id])
      assert.deepEqual(await favorites.linkedAmong([]), [])
      assert.deepEqual(await ctx.bind(favoritedBy).of(other).linkedAmong([ann.id]), [ann.id])
    })

    it('toggles a favourite from the interview side', async () => {
      const ctx = context()
      const { ann, interview, other } = await likes(ctx)
      const likedBy = ctx.bind(favoritedBy).of(interview)
      assert.equal(await likedBy.toggle(ann), true)
      assert.equal(await likedBy.exists(ann), true)
      assert.deepEqual(await ctx.bind(favoriteInterviews).of(ann).all(), [interview])
      assert.equal(await ctx.bind(favoriteInterviews).of(ann).exists(other), false)
      assert.equal(await likedBy.toggle(String(ann.id)), false)
      assert.deepEqual(await ctx.bind(favoriteInterviews).of(ann).all(), [])
    })

    it('toggles with the seed view: filter by key, exists, then remove or add', async () => {
      const ctx = context()
      const { ann, interview, other } = await likes(ctx)
      const favorites = ctx.bind(favoriteInterviews).of(ann)
      assert.equal(await favoriteView(favorites, interview), true)
      assert.equal(await favoriteView(favorites, other), true)
      assert.deepEqual(await favorites.all(), [interview, other])
      assert.equal(await favoriteView(favorites, interview), false)
      assert.deepEqual(await favorites.all(), [other])
      assert.equal(await favorites.filter({ pk: interview.id }).exists(), false)
      assert.equal(await favorites.filter({ pk: other.id }).exists(), true)
    })

    itInspecting(options, 'writes and deletes one through row per toggle', async () => {
      const ctx = context()
      const { ann, interview } = await likes(ctx)
      const favorites = ctx.bind(favoriteInterviews).of(ann)
      await favorites.toggle(interview)
      const rows = await ctx.rows(favoritedBy.through.table)
      assert.deepEqual(pick(rows, 'user_id', 'interview_id'), [{ user_id: ann.id, interview_id: interview.id }])
      await favorites.toggle(interview)
      assert.deepEqual(await ctx.rows(favoritedBy.through.table), [])
    })

    it('reads a favourite written straight into the through table, and toggles it off', async () => {
      const ctx = context()
      const { ann, interview } = await likes(ctx)
      // FavoriteInterview.objects.create(user=user, interview=interview)
      await insertLinkRow(ctx, favoritedBy, interview.id, ann.id)
      const favorites = ctx.bind(favoriteInterviews).of(ann)
      assert.equal(await favorites.exists(interview), true)
      assert.deepEqual(pick(await favorites.throughRows(), 'user_id', 'interview_id'), [{ user_id: ann.id, interview_id: interview.id }])
      assert.deepEqual(pick(await ctx.bind(favoritedBy).of(interview).throughRows(ann), 'user_id'), [{ user_id: ann.id }])
      assert.equal(await favorites.toggle(interview), false)
      assert.deepEqual(await favorites.throughRows(), [])
      assert.equal(await favorites.exists(), false)
    })

    it('keeps the favourites of each user apart', async () => {
      const ctx = context()
      const { ann, ben, interview, other } = await likes(ctx)
      await ctx.bind(favoriteInterviews).of(ann).toggle(interview)
      await ctx.bind(favoriteInterviews).of(ben).toggle(interview)
      await ctx.bind(favoriteInterviews).of(ben).toggle(other)
      assert.deepEqual(await ctx.bind(favoritedBy).of(interview).all(), [ann, ben])
      await ctx.bind(favoriteInterviews).of(ann).toggle(interview)
      assert.deepEqual(await ctx.bind(favoritedBy).of(interview).all(), [ben])
      assert.deepEqual(await ctx.bind(favoriteInterviews).of(ben).all(), [interview, other])
      assert.equal(await ctx.bind(favoritedBy).of(other).count(), 1)
    })

    itInspecting(options, 'refuses to toggle an interview that does not exist, writing nothing', async () => {
      const ctx = context()
      const { ann, other } = await likes(ctx)
      const missing = other.id + 10_000_000
      await assert.rejects(ctx.bind(favoriteInterviews).of(ann).toggle(missing), { code: 'M2M_TARGET_NOT_FOUND' })
      assert.deepEqual(await ctx.rows(favoritedBy.through.table), [])
    })

    it('sends add then remove events for two toggles, on the side used', async () => {
      const ctx = context()
      const { ann, interview } = await likes(ctx)
      const log = events()
      log.listen(favoritedBy)
      await ctx.bind(favoriteInterviews).of(ann).toggle(interview)
      await ctx.bind(favoritedBy).of(interview).toggle(ann)
      assert.deepEqual(
        log.events.map((event) => [event.action, event.instance, event.reverse, event.pkSet === null ? null : [...event.pkSet]]),
        [
          ['pre_add', ann, true, [interview.id]],
          ['post_add', ann, true, [interview.id]],
          ['pre_remove', interview, false, [ann.id]],
          ['post_remove', interview, false, [ann.id]],
        ],
      )
    })
  })
}
