import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type Client,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HEALTH_PROTO_PATH } from '#app/common';

type HealthClient = Client & {
  Check(
    req: { service: string },
    meta: Metadata,
    opts: { deadline: number },
    cb: (err: Error | null, res?: { status: string }) => void,
  ): void;
};

/** Calls `grpc.health.v1.Health/Check` on `target` (host:port) and returns the status name. */
export async function grpcHealthCheck(target: string, timeoutMs = 5_000): Promise<string> {
  const def = loadPackageDefinition(loadSync(HEALTH_PROTO_PATH, { enums: String, defaults: true }));
  const pkg = def.grpc as unknown as { health: { v1: { Health: ServiceClientConstructor } } };
  const client = new pkg.health.v1.Health(target, credentials.createInsecure()) as unknown as HealthClient;
  try {
    return await new Promise<string>((resolve, reject) => {
      client.Check({ service: '' }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
        err ? reject(err) : resolve(res?.status ?? 'UNKNOWN'),
      );
    });
  } finally {
    client.close();
  }
}
