import { ConsoleLogger, type LogLevel } from '@nestjs/common';

/** The levels written at each LOG_LEVEL, most severe first. */
const LEVELS: Record<'debug' | 'log' | 'warn' | 'error', LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * Structured (JSON) logs by default; `text` for humans at a terminal. ConsoleLogger writes
 * synchronously to a file or terminal, so lines at payment rates are kept at `debug` (off by default).
 */
export function createLogger(
  service: string,
  format: 'json' | 'text',
  level: keyof typeof LEVELS = 'log',
): ConsoleLogger {
  const logLevels = LEVELS[level];
  return new ConsoleLogger(
    service,
    format === 'json' ? { json: true, colors: false, logLevels } : { prefix: service, logLevels },
  );
}
