import { CreateWinningTicket1795304125423 } from './1795304125423-CreateWinningTicket.js';

/** Every migration in order. Listed explicitly so source and compiled runs load the same set. */
export const MIGRATIONS = [CreateWinningTicket1795304125423];
