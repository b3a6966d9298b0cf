import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ContractRevert } from './contract-reverts.js';

const SOURCES = fileURLToPath(new URL('../../../contracts/src/', import.meta.url));

describe('ContractRevert', () => {
  it('spells every reason as the contracts revert with it', () => {
    const text = readdirSync(SOURCES)
      .filter((f) => f.endsWith('.sol'))
      .map((f) => readFileSync(SOURCES + f, 'utf8'))
      .join('\n');
    for (const [name, reason] of Object.entries(ContractRevert)) {
      // A whole reason is a whole string literal; a prefix starts one.
      const literal = name.endsWith('_PREFIX') ? `"${reason}` : `"${reason}"`;
      expect(text.includes(literal), `${name}: ${reason}`).toBe(true);
    }
  });
});
