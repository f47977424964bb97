import { createTopicScoreParams, type TopicScoreParams } from '@libp2p/gossipsub/score'

/**
 * gossipsub topic scores for vmplant's topics, modest on purpose. Calls, offers and load reports
 * are sparse and bursty, so a quiet mesh peer is normal: mesh-delivery and mesh-failure penalties
 * are off. A peer gains a little for time in the mesh (0.01 a second, at most 3) and for being
 * first with a message (0.5 each, decaying by 0.9 a second, at most 5); a message that fails
 * gossipsub's signature checks costs 10, squared in their count, which halves every second: one bad
 * message brings a peer to the gossip threshold (-10), three below the graylist (-80), for a few
 * seconds. Load reports weigh half as much as calls and offers.
 */
export function topicScores (topics: string[], halfWeight: string[] = []): Record<string, TopicScoreParams> {
  const scores: Record<string, TopicScoreParams> = {}
  for (const topic of [...topics, ...halfWeight]) {
    scores[topic] = createTopicScoreParams({
      topicWeight: halfWeight.includes(topic) ? 0.5 : 1,
      timeInMeshWeight: 0.01,
      timeInMeshQuantum: 1000,
      timeInMeshCap: 300,
      firstMessageDeliveriesWeight: 0.5,
      firstMessageDeliveriesDecay: 0.9,
      firstMessageDeliveriesCap: 10,
      meshMessageDeliveriesWeight: 0,
      meshFailurePenaltyWeight: 0,
      invalidMessageDeliveriesWeight: -10,
      invalidMessageDeliveriesDecay: 0.5
    })
  }
  return scores
}
