import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, NotFoundException, Param, Redirect, Res } from '@nestjs/common';
import { repoRoot } from '#app/common';

const STATIC_DIR = join(repoRoot(), 'apps', 'ops', 'src', 'dashboard', 'static');
const FILES: Record<string, string> = {
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
};
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

interface RawResponse {
  type(t: string): RawResponse;
  setHeader(name: string, value: string): void;
  send(body: Buffer | string): void;
}

/**
 * The dashboard: one static page and its script, public (they hold no data). The script asks the
 * ops API with the operator's token (typed in, or given as `#token=` in the URL) every few seconds.
 */
@Controller()
export class DashboardController {
  @Get()
  @Redirect('/dashboard', 302)
  root(): void {}

  @Get('dashboard')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', CSP)
  page(): string {
    return readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  }

  @Get('dashboard/:file')
  asset(@Param('file') file: string, @Res() res: RawResponse): void {
    const type = Object.hasOwn(FILES, file) ? FILES[file] : undefined;
    if (!type) throw new NotFoundException();
    res.setHeader('Cache-Control', 'no-cache');
    res.type(type).send(readFileSync(join(STATIC_DIR, file)));
  }
}
