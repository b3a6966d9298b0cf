import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress, type ProgressStream } from './progress.js';

function stream(tty: boolean): { out: ProgressStream; text: () => string } {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = tty;
  out.columns = 80;
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  return { out, text: () => text };
}

describe('Progress', () => {
  it('redraws one line on a terminal', () => {
    const s = stream(true);
    const p = new Progress(s.out);
    p.bar('fund deposit', 0, 2, '0xabc');
    p.bar('fund deposit', 1, 2, '0xabc');
    p.bar('fund deposit', 2, 2, '0xabc');
    p.end();
    expect(s.text()).toBe(
      '\r\x1b[2Kfund deposit [--------------------] 0/2 0xabc' +
        '\r\x1b[2Kfund deposit [##########----------] 1/2 0xabc' +
        '\r\x1b[2Kfund deposit [####################] 2/2 0xabc\n',
    );
  });

  it('prints a line per change elsewhere, without the ticking part', () => {
    const s = stream(false);
    const p = new Progress(s.out);
    p.status('waiting for the Redeemer: ticket queued', '1 s');
    p.status('waiting for the Redeemer: ticket queued', '2 s');
    p.status('waiting for the Redeemer: ticket submitted', '3 s');
    p.end('redemption redeemed');
    expect(s.text()).toBe(
      'waiting for the Redeemer: ticket queued\nwaiting for the Redeemer: ticket submitted\nredemption redeemed\n',
    );
  });
});
