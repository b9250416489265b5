// The logger serves the core, the ports and the functions alike, so it lives in code/util (ports may not import
// the core); the core and the functions keep importing it from here.
export { createLogger, errorMessage, silentLogger, type LogFields, type Logger } from '../util/log';
