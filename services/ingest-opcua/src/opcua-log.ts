import { format, stripVTControlCharacters } from 'node:util';
import { setErrorLogger, setWarningLogger } from 'node-opcua';
import type { Logger } from '@busway/runtime';

/** node-opcua calls its loggers with the caller's context first, then console-style arguments. */
function textOf(args: unknown[]): string {
  return stripVTControlCharacters(format(...args.slice(1))).slice(0, 2000);
}

/**
 * node-opcua writes its warnings and errors to the console, process-wide: route them to the worker's pino log
 * instead (its warnings are chatty and mostly expected, such as each failed reconnect: debug level).
 */
export function routeOpcuaLogs(log: Logger): void {
  const lib = log.child({ lib: 'node-opcua' });
  setWarningLogger((...args: unknown[]) => lib.debug(textOf(args)));
  setErrorLogger((...args: unknown[]) => lib.warn(textOf(args)));
}
