export {type AlertDeps, createAlertService} from './service.js'
export {SIGNATURE_HEADER, alertmanagerHoldMs} from './sinks.js'
export {type ActiveAlert, type AlertStateStore, memoryAlertStore, type SinkMark} from './state.js'
export type {Alert, AlertReport, AlertService, ContextValue, Delivery, Severity} from './types.js'
