import type { ColumnType, Generated, Kysely, Selectable } from 'kysely'
import { describe, expectTypeOf, it } from 'vitest'
import { KyselyAdapter, kyselyModel } from '../../src/adapters/kysely/index.js'
import { defineModel, manyToMany, type KeyOf, type KeyType, type PlainRowOf, type RelationAdapter } from '../../src/index.js'

interface DB {
  users: { id: Generated<number>; name: string; created_at: ColumnType<Date, string | undefined, never> }
  interviews: { id: Generated<number>; title: string }
  tags: { slug: string; label: string | null }
  users_favorite_interviews: { id: Generated<number>; user_id: number; interview_id: number }
}

const model = kyselyModel<DB>()
const User = model('User', { table: 'users' })
const Interview = model('Interview', { table: 'interviews', ordering: ['-title'] })
const Tag = model('Tag', { table: 'tags', primaryKey: 'slug', keyType: 'string' })

describe('kyselyModel', () => {
  it('reads row types from the Kysely database interface, as a SELECT returns them', () => {
    expectTypeOf<PlainRowOf<typeof User>>().toEqualTypeOf<{ id: number; name: string; created_at: Date }>()
    expectTypeOf<PlainRowOf<typeof Tag>>().toEqualTypeOf<{ slug: string; label: string | null }>()
    expectTypeOf(Tag.keyType).toEqualTypeOf<KeyType>()
    expectTypeOf<KeyOf<typeof User>>().toEqualTypeOf<number>()
    expectTypeOf<KeyOf<typeof Tag>>().toEqualTypeOf<string>()
    expectTypeOf(User.name).toEqualTypeOf<'User'>()
  })

  it('is defineModel over Selectable<DB[table]>', () => {
    const plain = defineModel<Selectable<DB['interviews']>>('Interview', { table: 'interviews' })
    expectTypeOf<PlainRowOf<typeof plain>>().toEqualTypeOf<PlainRowOf<typeof Interview>>()
    expectTypeOf(plain.table).toEqualTypeOf(Interview.table)
  })

  it('takes only tables and columns of the interface', () => {
    // @ts-expect-error no such table in DB
    model('Post', { table: 'posts' })
    // @ts-expect-error no such column to order by
    model('Interview', { table: 'interviews', ordering: ['name'] })
    // @ts-expect-error a string key needs its keyType
    model('Tag', { table: 'tags', primaryKey: 'slug' })
  })

  it('types the relation from the interface', async () => {
    const favorites = manyToMany(User, Interview, { name: 'favorite_interviews' })
    expectTypeOf(favorites.of(1).toggle(2)).toEqualTypeOf<Promise<boolean>>()
    const rows = await favorites.of(1).filter({ title__startswith: 'S' }).all()
    expectTypeOf(rows[0]!.title).toEqualTypeOf<string>()
    // @ts-expect-error interviews have no name column
    favorites.of(1).filter({ name: 'x' })
  })
})

describe('KyselyAdapter', () => {
  it('takes a Kysely instance or transaction of any database interface', () => {
    expectTypeOf<KyselyAdapter<DB>>().toExtend<RelationAdapter>()
    expectTypeOf((db: Kysely<DB>) => new KyselyAdapter(db)).returns.toEqualTypeOf<KyselyAdapter<DB>>()
  })
})
