export { ActorSystem, DEFAULT_RESTART_BUDGET, validateSpawnOptions, type ActorContext, type ActorRef, type Behavior, type Message, type SpawnOptions, type TaskOutcome, type ActorSystemInit } from './actor.js'
export { createReply, type Reply } from './reply.js'
export { systemClock, seededRandom, type Clock, type Random } from '../../interface/clock.js'
export * from './errors.js'
