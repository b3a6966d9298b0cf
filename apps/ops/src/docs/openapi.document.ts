import { REDEEMER_JOB_ACTIONS } from '#app/clients';
import { BLOCK_HEADER, SIGNATURE_HEADER } from '../auth/request-signature.js';
import { OpsErrorCode } from '../ops.error.js';

// The ops API's OpenAPI 3.1 document, written by hand next to the controllers (the services'
// bootstrap gives no hook to run @nestjs/swagger's scanner before the server starts). A test
// validates it against the OpenAPI schema and checks every documented route is served.

const wei = { type: 'string', pattern: '^-?\\d+$', description: 'wei, decimal integer string' };
const address = { type: 'string', pattern: '^0x[0-9a-f]{40}$' };
const hash = { type: 'string', pattern: '^0x[0-9a-f]{64}$' };
const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const time = { type: 'string', format: 'date-time' };
const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const errorResponse = (description: string) => json(ref('Error'), description);

const page = (key: string, item: object) => ({
  type: 'object',
  required: ['total', 'limit', 'offset', key],
  properties: {
    total: { type: 'integer' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
    [key]: { type: 'array', items: item },
  },
});

const q = (name: string, description: string, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const limitParam = q('limit', 'page size (1–500)', { type: 'integer', minimum: 1, maximum: 500 });
const offsetParam = q('offset', 'rows to skip', { type: 'integer', minimum: 0 });
const senderParam = q('sender', 'only this sender', address);
const recipientParam = q('recipient', 'only this recipient', address);

const readErrors = {
  '400': errorResponse('Invalid parameter (INVALID_REQUEST)'),
  '401': errorResponse('No valid bearer token'),
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'ticketpay ops API',
    version: '1.0.0',
    description:
      'Operator API of ticketpay: winning tickets, redemptions, senders, totals. Every call needs `Authorization: Bearer <OPS_API_TOKEN>`. ' +
      `POST /api/v1/tickets/{ticketHash}/redeem may instead carry a signature of the recipient's key (headers ${SIGNATURE_HEADER} and ${BLOCK_HEADER}): ` +
      'the EIP-191 personal_sign of keccak256("ticketpay-ops-v1\\nPOST\\n<path>\\n<keccak256 of the JSON body, {} if none>\\n<block number>"). ' +
      'A block more than OPS_SIGNATURE_MAX_AGE_BLOCKS (5) behind the head is refused with STALE_BLOCK, one ahead of it with BLOCK_AHEAD. ' +
      'Amounts are decimal strings of wei.',
  },
  servers: [{ url: '/' }],
  security: [{ bearer: [] }],
  tags: [{ name: 'tickets' }, { name: 'senders' }, { name: 'stats' }],
  paths: {
    '/api/v1/tickets': {
      get: {
        tags: ['tickets'],
        operationId: 'listTickets',
        summary: 'Winning tickets, newest first (GetListUnclaimed / GetListInProgress)',
        parameters: [
          q(
            'status',
            'comma-separated groups (unclaimed, in-progress, redeemed, failed, expired) or raw statuses (received, queued, submitting, submitted, …)',
          ),
          senderParam,
          recipientParam,
          limitParam,
          offsetParam,
        ],
        responses: { '200': json(page('tickets', ref('Ticket'))), ...readErrors },
      },
    },
    '/api/v1/tickets/{ticketHash}': {
      get: {
        tags: ['tickets'],
        operationId: 'getTicket',
        summary: 'One winning ticket with its redemption transactions',
        parameters: [{ name: 'ticketHash', in: 'path', required: true, schema: hash }],
        responses: {
          '200': json(ref('TicketDetail')),
          ...readErrors,
          '404': errorResponse('No such ticket (TICKET_NOT_FOUND)'),
        },
      },
    },
    '/api/v1/tickets/{ticketHash}/redeem': {
      post: {
        tags: ['tickets'],
        operationId: 'redeemTicket',
        summary: "Start the ticket's redemption now (StartClaim), through the Redeemer",
        security: [{ bearer: [] }, { recipientSignature: [], signedBlock: [] }],
        parameters: [{ name: 'ticketHash', in: 'path', required: true, schema: hash }],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  ignoreGasLimits: { type: 'boolean', description: "pass the Redeemer's gas limits once" },
                },
                additionalProperties: false,
              },
            },
          },
        },
        responses: {
          '202': json(
            {
              type: 'object',
              required: ['ticketHash', 'job'],
              properties: {
                ticketHash: hash,
                job: { type: 'string', enum: [...REDEEMER_JOB_ACTIONS] },
              },
            },
            'The redemption job is due now',
          ),
          '400': errorResponse('INVALID_REQUEST'),
          '401': errorResponse('UNAUTHORIZED, BAD_SIGNATURE, STALE_BLOCK, BLOCK_AHEAD or SIGNATURE_REPLAYED'),
          '404': errorResponse('TICKET_NOT_FOUND'),
          '409': errorResponse('TICKET_FINAL: already redeemed, failed or expired'),
          '502': errorResponse('REDEEMER_REFUSED'),
          '503': errorResponse('REDEEMER_NOT_CONFIGURED, REDEEMER_UNAVAILABLE or CHAIN_UNAVAILABLE'),
        },
      },
    },
    '/api/v1/redemptions': {
      get: {
        tags: ['tickets'],
        operationId: 'listRedemptions',
        summary: 'Redemption history: tickets that reached a final status, with their tx and links',
        parameters: [senderParam, recipientParam, limitParam, offsetParam],
        responses: { '200': json(page('redemptions', ref('Redemption'))), ...readErrors },
      },
    },
    '/api/v1/senders': {
      get: {
        tags: ['senders'],
        operationId: 'listSenders',
        summary:
          'Senders that sent winning tickets, with deposit, reserve, max float and validity (SenderMonitor)',
        parameters: [limitParam, offsetParam],
        responses: { '200': json(page('senders', ref('Sender'))), ...readErrors },
      },
    },
    '/api/v1/senders/{address}': {
      get: {
        tags: ['senders'],
        operationId: 'getSender',
        summary: 'One sender',
        parameters: [{ name: 'address', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { '200': json(ref('Sender')), ...readErrors },
      },
    },
    '/api/v1/totals': {
      get: {
        tags: ['stats'],
        operationId: 'getTotals',
        summary: 'EV received, face value won, redeemed, gas spent',
        parameters: [recipientParam],
        responses: { '200': json(ref('Totals')), ...readErrors },
      },
    },
    '/api/v1/timeseries': {
      get: {
        tags: ['stats'],
        operationId: 'getTimeseries',
        summary: 'Tickets received / winning / redeemed per time bucket',
        parameters: [
          q('window', 'seconds back from now (60 – 2592000, default 3600)', { type: 'integer' }),
          q('bucket', 'bucket size in seconds (default window/60, at least 10)', { type: 'integer' }),
          recipientParam,
        ],
        responses: { '200': json(ref('Timeseries')), ...readErrors },
      },
    },
    '/api/v1/queue': {
      get: {
        tags: ['stats'],
        operationId: 'getQueue',
        summary: 'Redemption queue depth (BullMQ) and tickets waiting or in progress',
        responses: { '200': json(ref('QueueDepth')), ...readErrors },
      },
    },
    '/api/v1/failures': {
      get: {
        tags: ['stats'],
        operationId: 'getFailures',
        summary: 'Recent redemption failures by code',
        parameters: [q('window', 'seconds back from now (default 86400)', { type: 'integer' }), limitParam],
        responses: { '200': json(ref('Failures')), ...readErrors },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'OPS_API_TOKEN' },
      recipientSignature: {
        type: 'apiKey',
        in: 'header',
        name: SIGNATURE_HEADER,
        description: '65-byte 0x-hex signature',
      },
      signedBlock: {
        type: 'apiKey',
        in: 'header',
        name: BLOCK_HEADER,
        description: 'the block number signed',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['domain', 'code', 'message'],
        properties: {
          domain: { type: 'string' },
          code: { type: 'string', examples: Object.values(OpsErrorCode) },
          message: { type: 'string' },
        },
      },
      Ticket: {
        type: 'object',
        required: ['ticketHash', 'status', 'statusGroup', 'sender', 'recipient', 'faceValue', 'createdAt'],
        properties: {
          ticketHash: hash,
          status: {
            type: 'string',
            enum: ['received', 'queued', 'submitting', 'submitted', 'redeemed', 'failed', 'expired'],
          },
          statusGroup: {
            type: 'string',
            enum: ['unclaimed', 'in-progress', 'redeemed', 'failed', 'expired'],
          },
          statusReason: nullable({ type: 'string' }),
          txHash: nullable(hash),
          txUrl: nullable({ type: 'string' }),
          sender: address,
          recipient: address,
          faceValue: wei,
          winProb: { type: 'string' },
          senderNonce: { type: 'string' },
          creationRound: { type: 'string' },
          paramsExpirationBlock: { type: 'string' },
          // The L1 block from which recipientRand may be revealed, as the Recipient stored it.
          revealBlock: nullable({ type: 'string' }),
          attempts: { type: 'integer' },
          lastCode: nullable({ type: 'string' }),
          amountPaid: nullable(wei),
          redeemedAt: nullable(time),
          createdAt: time,
          updatedAt: time,
        },
      },
      TicketDetail: {
        allOf: [
          ref('Ticket'),
          {
            type: 'object',
            properties: {
              transactions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    purpose: { type: 'string' },
                    status: { type: 'string' },
                    nonce: { type: 'string' },
                    hashes: { type: 'array', items: hash },
                    minedHash: nullable(hash),
                    txUrl: nullable({ type: 'string' }),
                    blockNumber: nullable({ type: 'string' }),
                    gasUsed: nullable({ type: 'string' }),
                    effectiveGasPrice: nullable(wei),
                    gasCost: nullable(wei),
                    errorCode: nullable({ type: 'string' }),
                    tickets: { type: 'integer' },
                    createdAt: time,
                    finishedAt: nullable(time),
                  },
                },
              },
            },
          },
        ],
      },
      Redemption: {
        type: 'object',
        required: ['ticketHash', 'outcome', 'faceValue', 'finishedAt'],
        properties: {
          ticketHash: hash,
          outcome: { type: 'string', enum: ['redeemed', 'failed', 'expired'] },
          reason: nullable({ type: 'string' }),
          sender: address,
          recipient: address,
          faceValue: wei,
          amountPaid: nullable(wei),
          finishedAt: time,
          txHash: nullable(hash),
          txUrl: nullable({ type: 'string' }),
          blockNumber: nullable({ type: 'string' }),
          txPurpose: nullable({ type: 'string' }),
          ticketsInTx: nullable({ type: 'integer' }),
          txGasCost: nullable(wei),
        },
      },
      Sender: {
        type: 'object',
        required: ['sender', 'tickets', 'monitorError'],
        properties: {
          sender: address,
          tickets: {
            type: 'object',
            properties: {
              won: { type: 'integer' },
              pending: { type: 'integer' },
              redeemed: { type: 'integer' },
            },
          },
          faceValueWon: wei,
          faceValuePending: wei,
          lastTicketAt: nullable(time),
          monitorError: nullable({
            type: 'string',
            description: 'set when the SenderMonitor could not be asked',
          }),
          deposit: nullable(wei),
          reserve: nullable(wei),
          reserveClaimedThisRound: nullable(wei),
          withdrawRound: nullable({ type: 'string', description: '0 when no unlock is in progress' }),
          maxFloat: nullable({
            ...wei,
            description: 'for OPS_RECIPIENT_ADDRESS (or the first recipient); may be negative',
          }),
          valid: nullable({ type: 'boolean' }),
          invalidReason: nullable({ type: 'string' }),
          recipients: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                recipient: address,
                active: { type: 'boolean' },
                reserveAllocation: wei,
                claimedReserve: wei,
                pending: wei,
                maxFloat: wei,
              },
            },
          },
          block: nullable({ type: 'string' }),
        },
      },
      Amounts: {
        type: 'object',
        required: ['count', 'faceValue'],
        properties: { count: { type: 'integer' }, faceValue: wei, amountPaid: wei },
      },
      Totals: {
        type: 'object',
        required: ['evReceived', 'winning', 'redeemed', 'gasSpent'],
        properties: {
          recipient: nullable(address),
          evReceived: {
            type: 'object',
            properties: {
              wei,
              source: {
                type: 'string',
                enum: ['recipient-metrics', 'winning-tickets-estimate'],
                description:
                  "the Recipients' counters (OPS_RECIPIENT_METRICS_URLS: Prometheus floats, summed and rounded " +
                  'to wei, so exact to about 15 significant digits only), or the face value won as an estimate',
              },
            },
          },
          ticketsReceived: nullable({ type: 'number' }),
          winning: ref('Amounts'),
          pending: ref('Amounts'),
          redeemed: ref('Amounts'),
          failed: ref('Amounts'),
          expired: ref('Amounts'),
          gasSpent: {
            type: 'object',
            properties: {
              redemptionWei: wei,
              totalWei: wei,
              byPurpose: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    purpose: { type: 'string' },
                    txs: { type: 'integer' },
                    gasUsed: { type: 'string' },
                    wei,
                  },
                },
              },
            },
          },
        },
      },
      Timeseries: {
        type: 'object',
        required: ['windowSeconds', 'bucketSeconds', 'buckets'],
        properties: {
          windowSeconds: { type: 'integer' },
          bucketSeconds: { type: 'integer' },
          sampled: { type: 'boolean', description: "whether the Recipients' counters are sampled" },
          buckets: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                t: time,
                ticketsReceived: nullable({ type: 'number' }),
                evReceivedWei: nullable({
                  ...wei,
                  description:
                    "from the Recipients' sampled counters (Prometheus floats): exact to about 15 significant digits",
                }),
                winning: { type: 'integer' },
                faceValueWon: wei,
                redeemed: { type: 'integer' },
                faceValueRedeemed: wei,
                amountPaid: wei,
              },
            },
          },
        },
      },
      QueueDepth: {
        type: 'object',
        properties: {
          queue: { type: 'string' },
          jobs: { type: 'object', additionalProperties: { type: 'integer' } },
          tickets: {
            type: 'object',
            properties: { unclaimed: { type: 'integer' }, inProgress: { type: 'integer' } },
          },
        },
      },
      Failures: {
        type: 'object',
        properties: {
          windowSeconds: { type: 'integer' },
          final: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                code: { type: 'string' },
                status: { type: 'string' },
                count: { type: 'integer' },
              },
            },
          },
          retrying: {
            type: 'array',
            description: 'tickets not final yet, by why they wait or last failed (e.g. INSUFFICIENT_FUNDS)',
            items: { type: 'object', properties: { code: { type: 'string' }, count: { type: 'integer' } } },
          },
          recent: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                ticketHash: hash,
                status: { type: 'string' },
                code: nullable({ type: 'string' }),
                sender: address,
                faceValue: wei,
                at: time,
              },
            },
          },
        },
      },
    },
  },
} as const;
