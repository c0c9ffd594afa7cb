/**
 * Real exchanges through ccxt. Nothing here imports ccxt at load time: it is loaded by openCcxtVenue, and
 * no module under src/lib outside this folder may import it.
 */
export {type CcxtBrokerOptions, CcxtBroker, ORDER_OUTCOME_UNKNOWN, RECENT_ORDERS_MARGIN_MS} from './broker.js'
export {CcxtMarketData} from './market-data.js'
export type {OperationRequests, RequestStats} from './requests.js'
export {type BreakerOptions, CIRCUIT_OPEN, type CircuitSnapshot, type CircuitState, DEFAULT_BREAKER, DEFAULT_RETRY, type RetryOptions} from './resilience.js'
export type {Credentials} from './session.js'
export {type CcxtVenue, type CcxtVenueOptions, measureSkew, openCcxtVenue} from './venue.js'
