import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '#app/core';
import { configReferenceTable } from './config-reference.js';

/** A table row as prettier may pad it: runs of spaces collapsed. */
const normal = (row: string) => row.replace(/ +/g, ' ').trim();

describe('README configuration table', () => {
  it('is exactly what the config schemas say (npm run -s config:reference)', () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8').split('\n');
    const start = readme.findIndex((l) => l.startsWith('| variable'));
    const end = readme.findIndex((l, i) => i > start && !l.startsWith('|'));
    const documented = readme.slice(start + 2, end).map(normal);
    expect(documented).toEqual(configReferenceTable().slice(2).map(normal));
  });
});
