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

/** The table as an Inbox over these actors: one for the libp2p node and the simulator alike. */
export function edgeTable (actors: Actors): Inbox {
  const rows: Record<Role, Record<string, LooseRow | undefined>> = EDGE_ROWS
  return {
    serves: (role) => actors[role] !== undefined,
    deliver: async <C extends Command>(command: C, options: AbortOptions = {}): Promise<AnswerOf<C>> => {
      const row = rows[command.to][command.type]
      if (row === undefined) throw new Error(`no edge for ${command.to} command ${command.type}`)
      const actor: LooseActor | undefined = actors[command.to]
      if (row.kind === 'send') {
        actor?.send(row.message(command) as Message)
        return undefined as AnswerOf<C>
      }
      if (actor === undefined) throw new RoleNotServedError(command.to, command.type)
      return await actor.ask(row.message(command) as (reply: Reply<unknown>) => Message, options) as AnswerOf<C>
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
