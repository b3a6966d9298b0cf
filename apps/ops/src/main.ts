import { runService } from '#app/runtime';
import { OpsConfig } from './ops.config.js';
import { OpsModule } from './ops.module.js';

runService({
  name: 'ops',
  loadConfig: () => OpsConfig.fromEnv(),
  module: (config) => OpsModule.forRoot(config),
  httpPort: (env) => env.OPS_HTTP_PORT,
});
