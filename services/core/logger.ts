import { pino, type Logger } from 'pino';
import { trace } from '@opentelemetry/api';

export type { Logger };

// One JSON line per event; the active span's ids ride along so logs join traces.
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', name = 'plansync'): Logger {
  return pino({
    name,
    level,
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const ctx = span.spanContext();
      return { trace_id: ctx.traceId, span_id: ctx.spanId };
    },
  });
}
