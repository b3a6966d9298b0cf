import { runService } from '#app/runtime';
import { RedeemerConfig } from './redeemer.config.js';
import { RedeemerModule } from './redeemer.module.js';

runService({
  name: 'redeemer',
  loadConfig: () => RedeemerConfig.fromEnv(),
  module: (config) => RedeemerModule.forRoot(config),
  httpPort: (env) => env.REDEEMER_HTTP_PORT,
});
