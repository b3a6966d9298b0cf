import { join } from 'node:path';
import { PROTO_DIR } from '#app/proto';

/** ticketpay's SenderMonitor service, relative to PROTO_DIR (libs/proto/proto). */
export const SENDER_MONITOR_PROTO = 'ticketpay/sendermonitor/v1/sender_monitor.proto';
export const SENDER_MONITOR_PROTO_PATH = join(PROTO_DIR, SENDER_MONITOR_PROTO);
export const SENDER_MONITOR_PACKAGE = 'ticketpay.sendermonitor.v1';
export const SENDER_MONITOR_SERVICE = 'SenderMonitor';
/** Where the SenderMonitor listens by default, and so where its clients look (SENDER_MONITOR_GRPC_URL). */
export const SENDER_MONITOR_DEFAULT_GRPC_URL = '127.0.0.1:8935';
