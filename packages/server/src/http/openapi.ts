/**
 * The REST API's OpenAPI description, generated from the zod schemas the routes validate with:
 * a route registered with `schema: { body | querystring | params: <zod> }` is checked by
 * `zodValidator` and documented here, with nothing else to write. Served at /api/docs (Swagger UI)
 * and /api/docs/openapi.json. packages/server/test/openapi.test.ts fails when a registered route is
 * missing from the document, so a new route has to come with its schema.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { zodValidator } from './common.js';

export const DOCS_PREFIX = '/api/docs';

// The same relative path from src/http and dist/http.
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.setValidatorCompiler(zodValidator);
  // Responses are documented from their zod schemas but sent as the handler built them (no second
  // parse on the way out, so documenting a response cannot change what a client gets).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Baton REST API',
        version: VERSION,
        description:
          'The REST API of a Baton server. Signed-in calls carry the session cookie that sign-in or sign-up sets. ' +
          'Mutating calls must come from the server\'s own origin (or from no browser) and send JSON. Errors are ' +
          '`{"error":{"code","message"}}`. The live meeting itself runs over WebSockets (`/ws/conference/<id>`, ' +
          '`/ws/share`), described in docs/protocol.md, not here.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'baton_session', description: 'set by /api/auth/signin or /api/auth/signup' },
          bearer: { type: 'http', scheme: 'bearer', description: '/metrics: the --metrics-token; /api/admin: the admin API token (baton-admin finds it in the data directory)' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: false });
  app.get(`${DOCS_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger());
}
