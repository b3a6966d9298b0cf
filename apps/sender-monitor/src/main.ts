import { runService } from '#app/runtime';
import { SENDER_MONITOR_GRPC } from './grpc/sender-monitor.proto-paths.js';
import { SenderMonitorConfig } from './sender-monitor.config.js';
import { SenderMonitorModule } from './sender-monitor.module.js';

runService({
  name: 'sender-monitor',
  loadConfig: () => SenderMonitorConfig.fromEnv(),
  module: (config) => SenderMonitorModule.forRoot(config),
  httpPort: (env) => env.SENDER_MONITOR_HTTP_PORT,
  grpcUrl: (env) => env.SENDER_MONITOR_GRPC_URL,
  grpcPackages: SENDER_MONITOR_GRPC.packages,
  grpcProtoPaths: SENDER_MONITOR_GRPC.protoPaths,
  grpcIncludeDirs: SENDER_MONITOR_GRPC.includeDirs,
});
