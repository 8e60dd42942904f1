// JSON schemas for the /search route, following ../shared/fixtures/fever/openapi.yaml. The same
// schemas validate requests and compile the response serializer.
export const searchQuerySchema = {
  type: 'object',
  properties: {
    starts_at: { type: 'string', format: 'date-time', description: 'Return only events that start at or after this instant' },
    ends_at: { type: 'string', format: 'date-time', description: 'Return only events that end at or before this instant' },
  },
} as const;

export const eventSummarySchema = {
  type: 'object',
  required: ['id', 'title', 'start_date', 'start_time', 'end_date', 'end_time', 'min_price', 'max_price'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    title: { type: 'string' },
    start_date: { type: 'string', format: 'date' },
    start_time: { type: 'string', format: 'time', nullable: true },
    end_date: { type: 'string', format: 'date', nullable: true },
    end_time: { type: 'string', format: 'time', nullable: true },
    min_price: { type: 'number', nullable: true },
    max_price: { type: 'number', nullable: true },
  },
} as const;

export const searchOkSchema = {
  type: 'object',
  required: ['data', 'error'],
  properties: {
    data: {
      type: 'object',
      required: ['events'],
      properties: { events: { type: 'array', items: eventSummarySchema } },
    },
    error: { type: 'object', nullable: true },
  },
} as const;

export const errorEnvelopeSchema = {
  type: 'object',
  required: ['error', 'data'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    data: { type: 'object', nullable: true },
  },
} as const;

export interface EventSummary {
  id: string;
  title: string;
  start_date: string;
  start_time: string | null;
  end_date: string | null;
  end_time: string | null;
  min_price: number | null;
  max_price: number | null;
}

export function errorBody(code: string, message: string) {
  return { error: { code, message }, data: null };
}
