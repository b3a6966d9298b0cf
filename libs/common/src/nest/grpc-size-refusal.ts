import {
  type ServerInterceptingCall,
  status,
  type ServerInterceptor,
  type StatusObject,
} from '@grpc/grpc-js';
import { ProtoErrorCode } from '#app/proto';
import { readErrorTrailers, setErrorTrailers } from './grpc-error-trailers.js';

/**
 * grpc-js refuses a request above `grpc.max_receive_message_length` itself, as soon as the
 * message's length prefix arrives (nothing is buffered), in the call object that reads the stream:
 * no interceptor, filter or handler of ours sees it, and its RESOURCE_EXHAUSTED carries no
 * trailers. This server interceptor wraps that call object's `sendStatus`, through which grpc-js
 * sends its own refusals too, and gives an uncoded RESOURCE_EXHAUSTED our `error-code`
 * (MESSAGE_TOO_LARGE) and `error-domain` (proto) trailers, like every other coded failure.
 * Our own RESOURCE_EXHAUSTED answers (rate limits, nonce caps) already carry a code and pass as they are.
 */
export const codeSizeRefusals: ServerInterceptor = (_method, call) => {
  const send = call.sendStatus.bind(call);
  call.sendStatus = (s) => send(isUncodedSizeRefusal(s) ? withSizeCode(s) : s);
  // The call itself goes on: grpc-js only uses its interface, and a wrapper per call would cost
  // the hot path for nothing (the declared return type is the wrapper class).
  return call as ServerInterceptingCall;
};

type SentStatus = Parameters<Parameters<ServerInterceptor>[1]['sendStatus']>[0];

function isUncodedSizeRefusal(s: SentStatus): boolean {
  return s.code === status.RESOURCE_EXHAUSTED && readErrorTrailers(s.metadata).code === undefined;
}

function withSizeCode(s: SentStatus): StatusObject {
  const metadata = setErrorTrailers(ProtoErrorCode.MESSAGE_TOO_LARGE, 'proto', s.metadata?.clone());
  return { code: s.code, details: s.details, metadata };
}
