// docker-compose.dev.yml validated with compose-go (no Docker engine runs on the build machines).
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { projectRoot } from '../../services/core/paths.js';

const checker = join(projectRoot(), '.testenv', 'bin', 'compose-check');
const file = join(projectRoot(), 'docker-compose.dev.yml');

describe('docker-compose.dev.yml', () => {
  it('loads with compose-go and has every service of the stack', () => {
    const services = execFileSync(checker, [file], { encoding: 'utf8' }).trim().split('\n');
    expect(services.sort()).toEqual(['api', 'controller', 'fetcher', 'migrate', 'postgres', 'processor', 'prometheus', 'provider-sim', 'redis']);
  });

  it('uses the image commands the CLI knows, and file mode for the controller', () => {
    const doc = parse(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, { command?: string[] }> };
    const commands = Object.entries(doc.services).filter(([, s]) => s.command && !['postgres', 'redis', 'prometheus'].includes(s.command[0]!));
    for (const [, s] of commands.filter(([n]) => !['redis', 'prometheus'].includes(n))) {
      expect(['api', 'fetcher', 'processor', 'controller', 'provider-sim', 'migrate']).toContain(s.command![0]);
    }
    expect(doc.services.controller!.command).toEqual(['controller', '--file-dir', '/plansources']);
  });

  it('the checker rejects a broken file (so a pass means something)', () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'compose-')), 'bad.yml');
    writeFileSync(bad, 'services:\n  api:\n    image: x\n    depends_on: [nope]\n');
    const r = spawnSync(checker, [bad], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nope/);
  });
});
