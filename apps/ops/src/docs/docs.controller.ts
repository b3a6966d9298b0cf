import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { OPENAPI_DOCUMENT } from './openapi.document.js';

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
/** The only Swagger UI files served (no directory listing, no path from the request reaches the disk). */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ticketpay ops API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui' });`;

interface RawResponse {
  type(t: string): RawResponse;
  send(body: Buffer | string): void;
}

/** The OpenAPI document (`/docs/openapi.json`, `/docs-json`) and Swagger UI (`/docs`); public. */
@Controller()
export class DocsController {
  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return PAGE;
  }

  @Get('docs/init.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  init(): string {
    return INIT;
  }

  @Get(['docs/openapi.json', 'docs-json'])
  document() {
    return OPENAPI_DOCUMENT;
  }

  @Get('docs/assets/:file')
  asset(@Param('file') file: string, @Res() res: RawResponse): void {
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) throw new NotFoundException();
    res.type(type).send(readFileSync(join(SWAGGER_UI_DIR, file)));
  }
}
