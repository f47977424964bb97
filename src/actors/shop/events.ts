import type { ActorContext, Reply } from '../runtime/index.js'
import type { CreateResult } from '../../interface/index.js'
import type { ShopMessage } from './messages.js'

/**
 * A create the shop answered, once per create: made (with its result) or failed (refused, no
 * offers, every order failed, the client stopped waiting, the shop stopped). `requestId` is
 * absent for a create refused before its round began.
 */
export type CreateAnswered =
  | { type: 'create.answered', outcome: 'ok', requestId: string, result: CreateResult }
  | { type: 'create.answered', outcome: 'failed', requestId?: string, error: Error }

/** What the shop tells its observers (metrics, tests) through `ctx.emit`. */
export type ShopEvent = CreateAnswered

export type ShopContext = ActorContext<ShopMessage, ShopEvent>

/** Answers a create and tells the observers how it ended. */
export function answerCreate (ctx: ShopContext, reply: Reply<CreateResult>, answer: { requestId: string, result: CreateResult } | { requestId?: string, error: Error }): void {
  if ('result' in answer) {
    ctx.emit({ type: 'create.answered', outcome: 'ok', requestId: answer.requestId, result: answer.result })
    reply.resolve(answer.result)
    return
  }
  ctx.emit({ type: 'create.answered', outcome: 'failed', ...answer })
  reply.reject(answer.error)
}
