import { configClass, httpPortField, INFRA_ENV } from '#app/common';

export const REDEEMER_ENV = {
  ...INFRA_ENV,

  REDEEMER_HTTP_PORT: httpPortField(8933),
};

export class RedeemerConfig extends configClass(REDEEMER_ENV) {}
