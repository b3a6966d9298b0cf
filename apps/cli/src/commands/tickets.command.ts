import type { DataSource } from 'typeorm';
import type { WinningTicketEntity, WinningTicketStatus } from '#app/database';
import { MAX_WIN_PROB, ticketHashText } from '#app/ticket';
import { formatEth } from '../amount.js';
import type { Args } from '../args.js';
import { CliError, CliErrorCode, usageError } from '../cli.error.js';
import type { CommandGroup } from '../command.js';
import { parseAddressArg } from '../context.js';
import { fieldLines, tableLines } from '../output.js';
import { redeemTicket } from '../ticket-redemption.js';

// TypeORM is loaded on first use (see stores.ts), hence the dynamic imports of #app/database.

const DEFAULT_REDEEM_TIMEOUT_S = 120;

function parseHash(raw: string): string {
  const hash = ticketHashText(raw);
  if (hash === undefined) throw usageError(`a ticket hash is 0x and 64 hex digits, got "${raw}"`);
  return hash;
}

async function findTicket(ds: DataSource, ticketHash: string): Promise<WinningTicketEntity> {
  const { WinningTicketRepository } = await import('#app/database');
  const row = await new WinningTicketRepository(ds).findByHash(ticketHash);
  if (!row) throw new CliError(CliErrorCode.NOT_FOUND, `no winning ticket ${ticketHash} in the database`);
  return row;
}

async function parseStatuses(args: Args): Promise<WinningTicketStatus[]> {
  const { WinningTicketStatus } = await import('#app/database');
  const known = Object.values(WinningTicketStatus) as string[];
  return args
    .list('status')
    .flatMap((s) => s.split(','))
    .map((s) => {
      const status = s.trim().toLowerCase();
      if (!known.includes(status)) throw usageError(`unknown status "${s}" (one of ${known.join(', ')})`);
      return status as WinningTicketStatus;
    });
}

/** A ticket row for --json. recipientRand is left out: it must stay secret until the redemption. */
function ticketJson(t: WinningTicketEntity, full: boolean): Record<string, unknown> {
  return {
    ticketHash: t.ticketHash,
    status: t.status,
    statusReason: t.statusReason,
    txHash: t.txHash,
    sender: t.sender,
    recipient: t.recipient,
    faceValue: t.faceValue,
    winProb: t.winProb,
    senderNonce: t.senderNonce,
    creationRound: t.creationRound,
    ...(full
      ? {
          creationRoundBlockHash: t.creationRoundBlockHash,
          recipientRandHash: t.recipientRandHash,
          paramsExpirationBlock: t.paramsExpirationBlock,
          revealBlock: t.revealBlock,
          sig: t.sig,
        }
      : {}),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

/** winProb as a percentage for display only (never used in any computation). */
function winChance(winProb: bigint): string {
  return `${(Number((winProb * 1_000_000n) / MAX_WIN_PROB) / 10_000).toFixed(4)}%`;
}

export const ticketsCommands: CommandGroup = {
  name: 'tickets',
  summary: 'winning tickets held by the recipient side (Postgres), redemption on demand',
  commands: [
    {
      name: 'list',
      summary: 'list winning tickets, newest first',
      options: {
        status: {
          type: 'string',
          multiple: true,
          value: '<status>',
          description:
            'only these statuses, repeatable or comma-separated (received, queued, submitting, submitted, redeemed, failed, expired)',
        },
        sender: { type: 'string', value: '<address>', description: 'only tickets from this sender' },
        recipient: { type: 'string', value: '<address>', description: 'only tickets to this recipient' },
        limit: { type: 'string', value: '<n>', description: 'at most this many (default 50, max 1000)' },
      },
      positionals: { min: 0, max: 0 },
      async run(ctx, args) {
        const statuses = await parseStatuses(args);
        const sender = args.string('sender');
        const recipient = args.string('recipient');
        const limit = args.uint('limit', 50, 1_000);
        const { TicketQueries } = await import('#app/database');
        const ds = await ctx.database();
        const { rows, total } = await new TicketQueries(ds).entities(
          {
            statuses,
            sender: sender ? parseAddressArg(sender, '--sender').toLowerCase() : undefined,
            recipient: recipient ? parseAddressArg(recipient, '--recipient').toLowerCase() : undefined,
          },
          limit,
        );
        return {
          data: { total, tickets: rows.map((t) => ticketJson(t, false)) },
          human:
            rows.length === 0
              ? ['no winning tickets match']
              : [
                  ...tableLines(
                    ['HASH', 'STATUS', 'FACE VALUE', 'SENDER', 'RECIPIENT', 'ROUND', 'CREATED'],
                    rows.map((t) => [
                      t.ticketHash,
                      t.status,
                      formatEth(t.faceValue),
                      t.sender,
                      t.recipient,
                      String(t.creationRound),
                      t.createdAt.toISOString(),
                    ]),
                  ),
                  ...(total > rows.length ? [`(${rows.length} of ${total} shown; use --limit)`] : []),
                ],
        };
      },
    },
    {
      name: 'show',
      summary: 'show one winning ticket',
      usage: '<ticket-hash>',
      options: {},
      positionals: { min: 1, max: 1 },
      async run(ctx, args) {
        const t = await findTicket(await ctx.database(), parseHash(args.positionals[0]));
        return {
          data: ticketJson(t, true),
          human: fieldLines([
            ['ticket', t.ticketHash],
            ['status', t.statusReason ? `${t.status} (${t.statusReason})` : t.status],
            ['redeem tx', t.txHash ?? '-'],
            ['sender', t.sender],
            ['recipient', t.recipient],
            ['face value', formatEth(t.faceValue)],
            ['win prob', `${t.winProb} (${winChance(t.winProb)})`],
            ['sender nonce', String(t.senderNonce)],
            ['creation round', `${t.creationRound} (block hash ${t.creationRoundBlockHash})`],
            ['params expire', `after block ${t.paramsExpirationBlock}`],
            [
              'reveal from',
              t.revealBlock === null ? "the Redeemer's margin past expiry" : `block ${t.revealBlock}`,
            ],
            ['recipient rand', `hash ${t.recipientRandHash} (the value stays secret)`],
            ['signature', t.sig],
            ['received', t.createdAt.toISOString()],
            ['updated', t.updatedAt.toISOString()],
          ]),
        };
      },
    },
    {
      name: 'redeem',
      summary: "make a ticket's redemption due now and wait for the Redeemer's outcome",
      usage: '<ticket-hash>',
      details: [
        'The Redeemer owns on-chain redemption; this only makes the ticket due now, then follows its',
        'row until it is redeemed, failed or expired. With --redeemer-url/REDEEMER_URL (and',
        "REDEEMER_OPS_TOKEN) it asks the Redeemer's POST /ops/tickets/<hash>/redeem; otherwise it moves",
        "the ticket's BullMQ job (id = ticket hash) itself: promotes a delayed job, re-creates a",
        'finished or missing one (REDIS_URL, REDIS_PREFIX).',
        'Exit 0 when redeemed, 1 when it failed or expired or the wait timed out (the job stays due).',
      ],
      options: {
        'redeemer-url': {
          type: 'string',
          value: '<url>',
          description: "the Redeemer's HTTP base URL, e.g. http://127.0.0.1:8933 (default: REDEEMER_URL)",
        },
        'ignore-gas-limits': {
          type: 'boolean',
          description:
            "let this ticket pass the Redeemer's gas price and cost limits once (ops endpoint only)",
        },
        timeout: {
          type: 'string',
          value: '<seconds>',
          description: `how long to wait for the outcome (default ${DEFAULT_REDEEM_TIMEOUT_S})`,
        },
        'no-wait': { type: 'boolean', description: 'return once the ticket is due' },
      },
      positionals: { min: 1, max: 1 },
      async run(ctx, args) {
        const ticketHash = parseHash(args.positionals[0]);
        const timeoutMs = args.uint('timeout', DEFAULT_REDEEM_TIMEOUT_S) * 1_000;
        const ops = ctx.redeemerOps();
        const ignoreGasLimits = args.flag('ignore-gas-limits');
        if (ignoreGasLimits && !ops) {
          throw usageError(
            "--ignore-gas-limits needs the Redeemer's ops endpoint (--redeemer-url or REDEEMER_URL)",
          );
        }
        const out = await redeemTicket(
          { ds: await ctx.database(), queue: () => ctx.redemptionQueue(), progress: ctx.progress },
          { ticketHash, ops, ignoreGasLimits, wait: !args.flag('no-wait'), timeoutMs },
        );
        const reason = out.statusReason ? ` (${out.statusReason})` : '';
        return {
          data: out,
          human: [
            out.redeemed
              ? `ticket ${ticketHash} is redeemed (tx ${out.txHash ?? 'unknown'})`
              : `ticket ${ticketHash} is ${out.status}${reason}; job ${out.action}`,
          ],
        };
      },
    },
  ],
};
