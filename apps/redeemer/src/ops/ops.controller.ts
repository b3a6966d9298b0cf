import { Body, Controller, Get, HttpCode, Param, Post, UseFilters, UseGuards } from '@nestjs/common';
import { address } from '#app/common';
import { uint256Text } from '#app/ticket';
import { FeeWithdrawalService, type WithdrawFeesRequest } from '../fees/fee-withdrawal.service.js';
import { REDEEMER_OPS_ROUTES, RedeemerError, RedeemerErrorCode, type WithdrawFeesAnswer } from '#app/clients';
import { RedemptionService } from '../redemption/redemption.service.js';
import { RedeemerStatusService } from './redeemer-status.service.js';
import { OpsHttpFilter } from './ops-http.filter.js';
import { OpsTokenGuard } from './ops-token.guard.js';

/**
 * Operator endpoints on the Redeemer's HTTP port, for the ops API: bearer-token protected
 * (REDEEMER_OPS_TOKEN) and only mounted when a token is configured. Amounts are decimal wei strings.
 */
@Controller(REDEEMER_OPS_ROUTES.prefix)
@UseGuards(OpsTokenGuard)
@UseFilters(OpsHttpFilter)
export class OpsController {
  constructor(
    private readonly redemptions: RedemptionService,
    private readonly fees: FeeWithdrawalService,
    private readonly status: RedeemerStatusService,
  ) {}

  /** Redeem now: body `{"ignoreGasLimits": true}` (optional) also skips the gas price / cost limits once. */
  @Post(REDEEMER_OPS_ROUTES.redeemNow)
  @HttpCode(202)
  redeemNow(@Param('ticketHash') ticketHash: string, @Body() body: unknown) {
    const b = objectBody(body);
    if (b.ignoreGasLimits !== undefined && typeof b.ignoreGasLimits !== 'boolean') {
      throw new RedeemerError(RedeemerErrorCode.INVALID_REQUEST, 'ignoreGasLimits must be a boolean');
    }
    this.status.requireActive();
    return this.redemptions.redeemNow(ticketHash, { ignoreGasLimits: b.ignoreGasLimits === true });
  }

  /** Body `{"amount"?: "<wei>", "to"?: "0x…"}`; default: all fees, to the signer. */
  @Post(REDEEMER_OPS_ROUTES.withdrawFees)
  @HttpCode(200)
  async withdrawFees(@Body() body: unknown): Promise<WithdrawFeesAnswer> {
    const b = objectBody(body);
    const request: WithdrawFeesRequest = {};
    if (b.amount !== undefined) {
      const amount = uint256Text(b.amount);
      if (amount === undefined) {
        throw new RedeemerError(RedeemerErrorCode.INVALID_REQUEST, 'amount must be a decimal string of wei');
      }
      request.amount = amount;
    }
    if (b.to !== undefined) {
      try {
        if (typeof b.to !== 'string') throw new Error('not a string');
        request.to = address(b.to);
      } catch {
        throw new RedeemerError(RedeemerErrorCode.INVALID_REQUEST, 'to must be a 0x-prefixed address');
      }
    }
    this.status.requireActive();
    const r = await this.fees.withdraw(request);
    return { txHash: r.txHash, status: r.status, amount: r.amount.toString(), to: r.to };
  }

  @Get(REDEEMER_OPS_ROUTES.status)
  report() {
    return this.status.report();
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new RedeemerError(RedeemerErrorCode.INVALID_REQUEST, 'the body must be a JSON object');
  }
  return body as Record<string, unknown>;
}
