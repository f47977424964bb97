import type { ActorRef, Message, Reply } from '../actors/runtime/index.js'
import { RoleNotServedError, type AbortOptions, type AnswerOf, type Command, type CommandOf, type Inbox, type Role } from '../interface/index.js'
import { plantMessages, type PlantMessage, type PlantStatus } from '../actors/plant/messages.js'
import { EDGE_ROWS, type RoleMessages } from './rows.js'

export { EDGE_ROWS, type EdgeRows, type RoleMessages } from './rows.js'

/** A node's actors, by role; filled in as they are spawned (a command before that finds none). */
export type Actors = { [R in Role]?: ActorRef<RoleMessages[R]> }

/** The table's rows as `deliver` walks them: by role, then by command type. */
interface LooseRow { kind: 'send' | 'ask', message(command: Command): Message | ((reply: Reply<unknown>) => Message) }
interface LooseActor {
  send(message: Message): void
  ask<T>(build: (reply: Reply<T>) => Message, options?: AbortOptions): Promise<T>
}

/** A command the table delivered, and its answer (a one-way command's: undefined, once in the mailbox). */
export interface Delivery { command: Command, outcome: { ok: true, value: unknown } | { ok: false, error: unknown } }

export interface EdgeTableInit {
  /** sees each delivery as it is answered, for traces and tests; it only reads */
  onDelivered?: (delivery: Delivery) => void
}

/** The table as an Inbox over these actors: one for the libp2p node and the simulator alike. */
export function edgeTable (actors: Actors, init: EdgeTableInit = {}): Inbox {
  const rows: Record<Role, Record<string, LooseRow | undefined>> = EDGE_ROWS
  const deliver = async (command: Command, options: AbortOptions): Promise<unknown> => {
    const row = rows[command.to][command.type]
    if (row === undefined) throw new Error(`no edge for ${command.to} command ${command.type}`)
    const actor: LooseActor | undefined = actors[command.to]
    if (row.kind === 'send') {
      actor?.send(row.message(command) as Message)
      return undefined
    }
    if (actor === undefined) throw new RoleNotServedError(command.to, command.type)
    return await actor.ask(row.message(command) as (reply: Reply<unknown>) => Message, options)
  }
  const { onDelivered } = init
  return {
    serves: (role) => actors[role] !== undefined,
    deliver: async <C extends Command>(command: C, options: AbortOptions = {}): Promise<AnswerOf<C>> => {
      if (onDelivered === undefined) return await deliver(command, options) as AnswerOf<C>
      try {
        const value = await deliver(command, options)
        onDelivered({ command, outcome: { ok: true, value } })
        return value as AnswerOf<C>
      } catch (err: unknown) {
        onDelivered({ command, outcome: { ok: false, error: err } })
        throw err
      }
    }
  }
}

/** Every command type of a role the table has a row for, for tests and tools that enumerate it. */
export function commandTypes<R extends Role> (role: R): Array<CommandOf<R>['type']> {
  return Object.keys(EDGE_ROWS[role]) as Array<CommandOf<R>['type']>
}

/** The plant's own account of itself, for its node's operators: no command from the wire asks it. */
export async function plantStatus (plant: ActorRef<PlantMessage>, options: AbortOptions = {}): Promise<PlantStatus> {
  return await plant.ask(plantMessages.status(), options)
}
