import { runService } from '#app/runtime';
import { SenderConfig } from './sender.config.js';
import { SENDER_GRPC } from './sender.grpc.js';
import { SenderModule } from './sender.module.js';

runService({
  name: 'sender',
  loadConfig: () => SenderConfig.fromEnv(),
  module: (config) => SenderModule.forRoot(config),
  httpPort: (env) => env.SENDER_HTTP_PORT,
  grpcUrl: (env) => env.SENDER_GRPC_URL,
  grpcPackages: SENDER_GRPC.packages,
  grpcProtoPaths: SENDER_GRPC.protoPaths,
  grpcIncludeDirs: SENDER_GRPC.includeDirs,
  grpcMaxRequestBytes: (env) => env.SENDER_GRPC_MAX_REQUEST_BYTES,
});
