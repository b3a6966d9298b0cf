import { ConsoleLogger } from '@nestjs/common';

/** Structured (JSON) logs by default; `text` for humans at a terminal. */
export function createLogger(service: string, format: 'json' | 'text'): ConsoleLogger {
  return new ConsoleLogger(service, format === 'json' ? { json: true, colors: false } : { prefix: service });
}
