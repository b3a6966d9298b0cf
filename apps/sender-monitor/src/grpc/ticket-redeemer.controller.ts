import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { distinctUntilChanged, map, type Observable } from 'rxjs';
import { SenderMonitorError, SenderMonitorErrorCode } from '#app/clients';
import {
  maxFloatReqCodec,
  maxFloatUpdateCodec,
  redeemerTicketCodec,
  TICKET_REDEEMER_SERVICE,
  type MaxFloatReqMessage,
  type MaxFloatUpdateMessage,
  type TicketMessage,
} from '#app/proto';
import { bytesToHex, isZeroBytes, usableMaxFloat } from '#app/ticket';
import { LocalSenderMonitor } from '../monitor/sender-monitor.service.js';
import { SenderMonitorExceptionFilter } from './grpc-errors.js';

const SERVICE = TICKET_REDEEMER_SERVICE.slice(TICKET_REDEEMER_SERVICE.lastIndexOf('.') + 1);

/**
 * go-livepeer's `net.TicketRedeemer` (PROTOCOL.md §9), so an orchestrator started with
 * `-redeemerAddr` can use this service. Sender-only requests are answered for the primary
 * recipient. max_float is unsigned minbytes on this wire: a negative max float is sent as 0
 * (go-livepeer would send its absolute value, §14.7), which an orchestrator reads as "no room
 * for this sender" — the truth — instead of a made-up positive float.
 */
@Controller()
@UseFilters(SenderMonitorExceptionFilter)
export class TicketRedeemerController {
  constructor(private readonly monitor: LocalSenderMonitor) {}

  @GrpcMethod(SERVICE, 'QueueTicket')
  async queueTicket(req: TicketMessage): Promise<Record<string, never>> {
    await this.monitor.queueTicket(redeemerTicketCodec.fromMessage(req));
    return {};
  }

  @GrpcMethod(SERVICE, 'MaxFloat')
  async maxFloat(req: MaxFloatReqMessage): Promise<MaxFloatUpdateMessage> {
    const { maxFloat } = await this.monitor.maxFloatOf(senderOf(req));
    return toUpdate(maxFloat);
  }

  /** Unlike go-livepeer, the current value is sent first: no change between MaxFloat and this call is lost. */
  @GrpcMethod(SERVICE, 'MonitorMaxFloat')
  monitorMaxFloat(req: MaxFloatReqMessage): Observable<MaxFloatUpdateMessage> {
    return this.monitor.watch(senderOf(req)).pipe(
      map((u) => usableMaxFloat(u.maxFloat)),
      distinctUntilChanged(),
      map(toUpdate),
    );
  }
}

function senderOf(req: MaxFloatReqMessage): string {
  const { sender } = maxFloatReqCodec.fromMessage(req);
  if (isZeroBytes(sender))
    throw new SenderMonitorError(SenderMonitorErrorCode.INVALID_ARGUMENT, 'sender is required');
  return bytesToHex(sender);
}

function toUpdate(maxFloat: bigint): MaxFloatUpdateMessage {
  return maxFloatUpdateCodec.toMessage({ maxFloat: usableMaxFloat(maxFloat) });
}
