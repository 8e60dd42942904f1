import type { FastifyPluginAsync } from 'fastify';
import { errorBody, errorEnvelopeSchema, searchOkSchema, searchQuerySchema } from './schemas.js';
import type { SearchService } from './search-service.js';

interface SearchQuery {
  starts_at?: string;
  ends_at?: string;
}

export const searchRoute: FastifyPluginAsync<{ search: SearchService }> = async (app, { search }) => {
  app.get<{ Querystring: SearchQuery }>(
    '/search',
    {
      schema: {
        querystring: searchQuerySchema,
        response: { 200: searchOkSchema, 400: errorEnvelopeSchema, 500: errorEnvelopeSchema },
      },
    },
    async (req, reply) => {
      const { starts_at: startsAt, ends_at: endsAt } = req.query;
      if (startsAt && endsAt && Date.parse(startsAt) > Date.parse(endsAt)) {
        return reply.code(400).send(errorBody('bad_request', 'starts_at must not be after ends_at'));
      }
      const result = await search.search({ startsAt, endsAt });
      reply.header('etag', result.etag).header('cache-control', 'public, max-age=5').header('x-cache', result.source);
      if (req.headers['if-none-match'] === result.etag) return reply.code(304).send();
      // Already serialized by the search service with the 200 schema's compiled serializer;
      // a Buffer goes to the socket as is.
      return reply.type('application/json; charset=utf-8').send(result.body);
    },
  );
};
