import { runService } from '#app/runtime';
import { RECIPIENT_GRPC } from '#app/clients';
import { RecipientConfig } from './recipient.config.js';
import { RecipientModule } from './recipient.module.js';

runService({
  name: 'recipient',
  loadConfig: () => RecipientConfig.fromEnv(),
  module: (config) => RecipientModule.forRoot(config),
  httpPort: (env) => env.RECIPIENT_HTTP_PORT,
  grpcUrl: (env) => env.RECIPIENT_GRPC_URL,
  grpcPackages: RECIPIENT_GRPC.packages,
  grpcProtoPaths: RECIPIENT_GRPC.protoPaths,
  grpcIncludeDirs: RECIPIENT_GRPC.includeDirs,
  grpcMaxRequestBytes: (env) => env.RECIPIENT_GRPC_MAX_REQUEST_BYTES,
});
