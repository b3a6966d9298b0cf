import { CreateWinningTicket1795304125423 } from './1795304125423-CreateWinningTicket.js';
import { CreateRecipientSecret1795305090346 } from './1795305090346-CreateRecipientSecret.js';
import { CreateRedemptionTables1795305474866 } from './1795305474866-CreateRedemptionTables.js';
import { AddOpenSenderIndexToWinningTicket1796301867955 } from './1796301867955-AddOpenSenderIndexToWinningTicket.js';
import { AddMinedL1BlocksToChainTx1796337040558 } from './1796337040558-AddMinedL1BlocksToChainTx.js';
import { AddOffersToWinningTicket1796432451232 } from './1796432451232-AddOffersToWinningTicket.js';
import { AddBlockHashToChainTx1796486837337 } from './1796486837337-AddBlockHashToChainTx.js';
import { AddRevealBlockToWinningTicket1796580000000 } from './1796580000000-AddRevealBlockToWinningTicket.js';

/** Every migration in order. Listed explicitly so source and compiled runs load the same set. */
export const MIGRATIONS = [
  CreateWinningTicket1795304125423,
  CreateRecipientSecret1795305090346,
  CreateRedemptionTables1795305474866,
  AddOpenSenderIndexToWinningTicket1796301867955,
  AddMinedL1BlocksToChainTx1796337040558,
  AddOffersToWinningTicket1796432451232,
  AddBlockHashToChainTx1796486837337,
  AddRevealBlockToWinningTicket1796580000000,
];
