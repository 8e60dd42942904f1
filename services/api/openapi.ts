import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from '../core/paths.js';

/** The provider-style spec the API implements, with our own server and operational endpoints listed. */
export function openApiDocument(): Record<string, unknown> {
  const doc = parse(readFileSync(join(projectRoot(), 'services', 'api', 'openapi.yaml'), 'utf8')) as Record<string, unknown>;
  doc.servers = [{ url: '/', description: 'this plansync API' }];
  return doc;
}
