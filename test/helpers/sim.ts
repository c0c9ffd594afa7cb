import type {OrderRequest} from '../../src/lib/domain.js'

/** A market order request, as the engine would send it. */
export const marketOrder = (clientOrderId: string, symbol: string, side: 'buy' | 'sell', amount: number): OrderRequest => ({
  clientOrderId,
  symbol,
  side,
  type: 'market',
  amount,
})
