import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { RedemptionQueue, redemptionQueueBoard } from '#app/queue';
import { TokenMatcher, bearerOf } from '#app/runtime';
import { cookieToken } from '../auth/ops-token.js';
import { OpsConfig } from '../ops.config.js';

export const QUEUE_BOARD_PATH = '/queues';

interface Req {
  headers: Record<string, string | undefined>;
}
interface Res {
  statusCode: number;
  setHeader(name: string, value: string): void;
  end(body: string): void;
}

/**
 * Bull Board for the redemption queue at /queues, read-only (retrying or removing jobs is the
 * Redeemer's business). A browser cannot add a bearer header to a page load, so the ops token is
 * also accepted from the `ops_token` cookie the dashboard sets.
 */
@Module({})
export class QueueBoardModule implements NestModule {
  static forRoot(config: OpsConfig): DynamicModule {
    return { module: QueueBoardModule, providers: [{ provide: OpsConfig, useValue: config }] };
  }

  constructor(
    private readonly config: OpsConfig,
    private readonly queue: RedemptionQueue,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    const board = redemptionQueueBoard(this.queue, QUEUE_BOARD_PATH, 'ticketpay redemptions');
    const token = new TokenMatcher(this.config.values.OPS_API_TOKEN);
    const auth = (req: Req, res: Res, next: () => void) => {
      if (
        token.matches(bearerOf(req.headers.authorization)) ||
        token.matches(cookieToken(req.headers.cookie))
      ) {
        next();
        return;
      }
      res.statusCode = 401;
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.end(
        JSON.stringify({
          domain: 'ops',
          code: 'UNAUTHORIZED',
          message: 'open the dashboard with the ops token first',
        }),
      );
    };
    consumer.apply(auth, board).forRoutes(QUEUE_BOARD_PATH);
  }
}
