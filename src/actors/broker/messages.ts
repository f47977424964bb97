import type { BidAnswer, BidCall, LoadReport } from '../../interface/index.js'
import type { BrokerMessage } from './broker.js'

export const brokerMessages = {
  call: (call: BidCall): BrokerMessage => ({ type: 'bid.call', call }),
  answer: (answer: BidAnswer): BrokerMessage => ({ type: 'bid.answer', answer }),
  /** `from`: the noise-authenticated sender, which the edge checked is the report's plant */
  loadReport: (report: LoadReport, from: string): BrokerMessage => ({ type: 'load.report', report, from })
}
