import { describe, expectTypeOf, it } from 'vitest'
import { asRow, defineModel, manyToMany, MemoryAdapter, type Branded, type BrandOf, type PlainRowOf, type RowOf } from '../../src/index.js'

interface UserRow {
  id: number
  name: string
  email: string
}
interface InterviewRow {
  id: number
  title: string
}
interface TagRow {
  id: number
}
interface LabelRow {
  id: number
}

const adapter = new MemoryAdapter()
const User = defineModel<UserRow>('User', { table: 'users' })
const Interview = defineModel<InterviewRow>('Interview', { table: 'interviews' })
const favorites = manyToMany(User, Interview, { name: 'favorites', adapter })

declare const user: UserRow
declare const interview: InterviewRow

describe('types: a row of another model', () => {
  it('is refused where the row types differ', async () => {
    const mine = favorites.of(user)
    await mine.add(interview)
    await mine.add([interview, 3, '4'])
    await mine.toggle(interview)
    // @ts-expect-error a User row is not an Interview
    await mine.add(user)
    // @ts-expect-error not in a list either
    await mine.add([interview, user])
    // @ts-expect-error nor in set(), remove(), toggle(), exists(), throughRows()
    await mine.set([user])
    // @ts-expect-error a User row is not an Interview
    await mine.remove(user)
    // @ts-expect-error a User row is not an Interview
    await mine.toggle(user)
    // @ts-expect-error a User row is not an Interview
    await mine.exists(user)
    // @ts-expect-error a User row is not an Interview
    await mine.throughRows(user)
    // @ts-expect-error of() takes a User, not an Interview
    favorites.of(interview)
    // @ts-expect-error the reverse side takes an Interview
    favorites.reverse.of(user)
  })

  it('takes a key, not an object that carries only the key', async () => {
    const mine = favorites.of(user.id)
    await mine.add(interview.id)
    await mine.add('4')
    // @ts-expect-error `{ id }` could be any model's row: pass the key itself
    await mine.add({ id: 3 })
    // @ts-expect-error a partial row (a select of some columns) is not a row either
    await mine.add({ id: 3 } as Pick<InterviewRow, 'id'>)
  })
})

// Two models whose rows have the same shape, told apart by a brand.
const Tag = defineModel<Branded<TagRow, 'Tag'>>('Tag', { table: 'tags' })
const Label = defineModel<Branded<LabelRow, 'Label'>>('Label', { table: 'labels' })
const tagLabels = manyToMany(Tag, Label, { name: 'labels', adapter })

describe('types: branded models', () => {
  it('brands the rows and names the model', () => {
    expectTypeOf<RowOf<typeof Tag>>().toEqualTypeOf<Branded<TagRow, 'Tag'>>()
    expectTypeOf<BrandOf<RowOf<typeof Tag>>>().toEqualTypeOf<'Tag'>()
    expectTypeOf<PlainRowOf<typeof Tag>>().toEqualTypeOf<{ id: number }>()
    expectTypeOf(Tag.name).toEqualTypeOf<'Tag'>()
    // @ts-expect-error the name must be the brand's
    defineModel<Branded<TagRow, 'Tag'>>('Tags', { table: 'tags' })
  })

  it('tells apart two models of the same row shape', async () => {
    const [tag] = await tagLabels.reverse.of(1).all()
    const [label] = await tagLabels.of(1).all()
    if (tag === undefined || label === undefined) return
    expectTypeOf(tag).toEqualTypeOf<Branded<TagRow, 'Tag'>>()
    await tagLabels.of(tag).add(label)
    // @ts-expect-error a Tag is not a Label, though both are { id: number }
    await tagLabels.of(tag).add(tag)
    // @ts-expect-error a Label is not a Tag
    tagLabels.of(label)
  })

  it('takes plain rows by key, or tagged with asRow()', async () => {
    const plain: LabelRow = { id: 2 }
    // @ts-expect-error a plain row from a query of your own carries no brand
    await tagLabels.of(1).add(plain)
    await tagLabels.of(1).add(plain.id)
    const label = asRow(Label, plain)
    expectTypeOf(label).toEqualTypeOf<Branded<LabelRow, 'Label'>>()
    await tagLabels.of(1).add(label)
    await tagLabels.of(asRow(Tag, { id: 1 })).add(label)
    // @ts-expect-error asRow() checks the row's columns against the model
    asRow(Interview, { id: 1, name: 'x' })
  })

  it('filters, orders and creates without the brand', async () => {
    const labels = tagLabels.of(1)
    expectTypeOf(await labels.create({})).toEqualTypeOf<Branded<LabelRow, 'Label'>>()
    await labels.filter({ id__in: [1, 2] }).orderBy('-id').all()
    // @ts-expect-error no such column
    labels.filter({ name: 'x' })
  })
})
