import type { AbortOptions, AnswerOf, Command, Inbox } from '../../src/interface/index.js'

/** An Inbox whose answers come from `answer`, for edge tests that need no actors behind the protocols. */
export function answeringInbox (answer: (command: Command, options: AbortOptions) => unknown): Inbox {
  return {
    serves: () => true,
    deliver: async <C extends Command>(command: C, options: AbortOptions = {}): Promise<AnswerOf<C>> => await answer(command, options) as AnswerOf<C>
  }
}
