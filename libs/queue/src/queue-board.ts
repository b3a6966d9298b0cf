import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { RedemptionQueue } from './redemption-queue.js';

/** An Express handler. */
export type BoardRouter = (req: unknown, res: unknown, next: () => void) => void;

/**
 * Bull Board over the redemption queue at `basePath`, read-only: retrying or removing jobs is the
 * Redeemer's business. Authentication is the caller's.
 */
export function redemptionQueueBoard(queue: RedemptionQueue, basePath: string, title: string): BoardRouter {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({
    queues: [new BullMQAdapter(queue.boardSource(), { readOnlyMode: true })],
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: title } },
  });
  return adapter.getRouter() as BoardRouter;
}
