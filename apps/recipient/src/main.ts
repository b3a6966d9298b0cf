import { runService } from '#app/runtime';
import { RecipientConfig } from './recipient.config.js';
import { RecipientModule } from './recipient.module.js';

runService({
  name: 'recipient',
  loadConfig: () => RecipientConfig.fromEnv(),
  module: (config) => RecipientModule.forRoot(config),
  httpPort: (env) => env.RECIPIENT_HTTP_PORT,
  grpcUrl: (env) => env.RECIPIENT_GRPC_URL,
});
