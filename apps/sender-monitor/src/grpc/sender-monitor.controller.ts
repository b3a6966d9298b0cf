import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { map, type Observable } from 'rxjs';
import {
  addressField,
  formatAmount,
  optionalAddressField,
  SENDER_MONITOR_SERVICE,
  type MaxFloatChangeMessage,
  type MaxFloatRequestMessage,
  type MaxFloatResponseMessage,
  type SenderInfoRequestMessage,
  type SenderInfoResponseMessage,
  type ValidateSenderRequestMessage,
  type ValidityMessage,
  type WatchMaxFloatRequestMessage,
} from '#app/clients';
import { LocalSenderMonitor } from '../monitor/sender-monitor.service.js';
import { SenderMonitorExceptionFilter } from './grpc-errors.js';
import { maxFloatChangeMessage, senderInfoMessage, validityMessage } from './sender-monitor.messages.js';

/** `ticketpay.sendermonitor.v1.SenderMonitor`: decode, call the monitor, encode. */
@Controller()
@UseFilters(SenderMonitorExceptionFilter)
export class SenderMonitorController {
  constructor(private readonly monitor: LocalSenderMonitor) {}

  @GrpcMethod(SENDER_MONITOR_SERVICE, 'MaxFloat')
  async maxFloat(req: MaxFloatRequestMessage): Promise<MaxFloatResponseMessage> {
    const sender = addressField(req.sender, 'sender');
    const recipient = optionalAddressField(req.recipient, 'recipient');
    const { maxFloat, block } = await this.monitor.maxFloatOf(sender, recipient);
    return { maxFloat: formatAmount(maxFloat), block: block.toString() };
  }

  @GrpcMethod(SENDER_MONITOR_SERVICE, 'ValidateSender')
  async validateSender(req: ValidateSenderRequestMessage): Promise<ValidityMessage> {
    return validityMessage(await this.monitor.validity(addressField(req.sender, 'sender')));
  }

  @GrpcMethod(SENDER_MONITOR_SERVICE, 'SenderInfo')
  async senderInfo(req: SenderInfoRequestMessage): Promise<SenderInfoResponseMessage> {
    return senderInfoMessage(await this.monitor.senderInfo(addressField(req.sender, 'sender')));
  }

  @GrpcMethod(SENDER_MONITOR_SERVICE, 'WatchMaxFloat')
  watchMaxFloat(req: WatchMaxFloatRequestMessage): Observable<MaxFloatChangeMessage> {
    const sender = addressField(req.sender, 'sender');
    const recipient = optionalAddressField(req.recipient, 'recipient');
    return this.monitor.watch(sender, recipient).pipe(map(maxFloatChangeMessage));
  }
}
