import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../services/core/paths.js';

// The provider's two sample responses (copied from shared/fixtures/fever into examples/provider).
export const fixture = (name: 'response_1.xml' | 'response_2.xml') => readFileSync(join(projectRoot(), 'examples', 'provider', name), 'utf8');
export const fixturePath = (name: string) => join(projectRoot(), 'examples', 'provider', name);
