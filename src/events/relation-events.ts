import type { Key, RelationAdapter } from '../adapter/relation-adapter.js'
import type { AnyModel, KeyOf, RowOf } from '../model/define-model.js'

/** The actions of Django's `m2m_changed` signal. */
export type M2MAction = 'pre_add' | 'post_add' | 'pre_remove' | 'post_remove' | 'pre_clear' | 'post_clear'

/** Every {@link M2MAction}, in the order a `set(..., { clear: true })` can emit them. */
export const M2M_ACTIONS: readonly M2MAction[] = ['pre_clear', 'post_clear', 'pre_remove', 'post_remove', 'pre_add', 'post_add']

/** The fields every relation event has, whatever its action. */
export interface M2MEventBase<TAction extends M2MAction> {
  /** What is happening. `pre_*` runs before the write, `post_*` after it, both inside the call's transaction. */
  readonly action: TAction
  /** The relation's name (`'publications'`). */
  readonly relation: string
  /**
   * The adapter of the call's transaction. A listener that reads or writes should use it
   * (`relation.using(event.using)`) so that its work commits or rolls back with the call.
   */
  readonly using: RelationAdapter
}

/**
 * The fields that say which side of the relation an event comes from: Django's `instance`,
 * `reverse` and `model`. `TReverse` is `false` for the declaring side's manager, `true` for the
 * reverse one.
 */
export interface M2MChangeFields<TInstanceModel extends AnyModel, TModel extends AnyModel, TReverse extends boolean> {
  /** The object whose manager was used: the value given to `of()`. */
  readonly instance: RowOf<TInstanceModel> | KeyOf<TInstanceModel>
  /** `false` when the manager is on the declaring side, `true` on the reverse side. */
  readonly reverse: TReverse
  /** The model of the objects added or removed (the manager's target model). */
  readonly model: TModel
}

/** An add or remove event: `pkSet` holds the keys actually added, or the keys asked to be removed. */
export type M2MChangeEvent<S extends AnyModel, T extends AnyModel> =
  | (M2MEventBase<'pre_add' | 'post_add' | 'pre_remove' | 'post_remove'> &
      M2MChangeFields<S, T, false> & {
        /** The keys actually added (`post_add`), about to be added (`pre_add`), or asked to be removed. */
        readonly pkSet: ReadonlySet<KeyOf<T>>
      })
  | (M2MEventBase<'pre_add' | 'post_add' | 'pre_remove' | 'post_remove'> &
      M2MChangeFields<T, S, true> & {
        /** The keys, on the reverse side: keys of the relation's source model. */
        readonly pkSet: ReadonlySet<KeyOf<S>>
      })

/** A clear event: `pkSet` is `null`, as in Django. */
export type M2MClearEvent<S extends AnyModel, T extends AnyModel> =
  | (M2MEventBase<'pre_clear' | 'post_clear'> &
      M2MChangeFields<S, T, false> & {
        /** Always `null`: a clear does not list the keys it removes, as in Django. */
        readonly pkSet: null
      })
  | (M2MEventBase<'pre_clear' | 'post_clear'> &
      M2MChangeFields<T, S, true> & {
        /** Always `null`: a clear does not list the keys it removes, as in Django. */
        readonly pkSet: null
      })

/** The payload of every relation event, with Django's `m2m_changed` meaning. */
export type M2MChangedEvent<S extends AnyModel = AnyModel, T extends AnyModel = AnyModel> =
  | M2MChangeEvent<S, T>
  | M2MClearEvent<S, T>

/**
 * The payload a listener of `name` receives: the add/remove events carry a key set, the clear
 * events `null`, and `'m2m_changed'` any of them.
 */
export type M2MEventFor<N extends M2MEventName, S extends AnyModel = AnyModel, T extends AnyModel = AnyModel> = N extends 'm2m_changed'
  ? M2MChangedEvent<S, T>
  : N extends 'pre_clear' | 'post_clear'
    ? M2MClearEvent<S, T> & { readonly action: N }
    : M2MChangeEvent<S, T> & { readonly action: N }

/** A listener. It may be async; the call waits for it, and a throw aborts the call with nothing written. */
export type M2MListener<S extends AnyModel = AnyModel, T extends AnyModel = AnyModel> = (
  event: M2MChangedEvent<S, T>,
) => void | Promise<void>

/** An event name for `relation.on()`: one action, or `'m2m_changed'` for all of them. */
export type M2MEventName = M2MAction | 'm2m_changed'

/**
 * The listeners of one relation, shared by its forward and reverse sides and by every
 * `using()` copy. Internal.
 */
export class RelationEvents {
  #listeners: { readonly name: M2MEventName; readonly listener: M2MListener }[] = []

  /** Whether any listener is attached, so that callers can skip building payloads. */
  get active(): boolean {
    return this.#listeners.length > 0
  }

  on(name: M2MEventName, listener: M2MListener): () => void {
    const entry = { name, listener }
    // Copy on write, so that a listener removing itself during an emit does not skip another.
    this.#listeners = [...this.#listeners, entry]
    return () => {
      this.#listeners = this.#listeners.filter((candidate) => candidate !== entry)
    }
  }

  /** Calls the matching listeners in the order they were attached, awaiting each. */
  async emit(event: M2MChangedEvent): Promise<void> {
    for (const { name, listener } of this.#listeners) {
      if (name === 'm2m_changed' || name === event.action) await listener(event)
    }
  }
}

/** A set of keys, typed for event payloads. */
export function keySet<K extends Key>(keys: readonly Key[]): ReadonlySet<K> {
  return new Set(keys as readonly K[])
}
