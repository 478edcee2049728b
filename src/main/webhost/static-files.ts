import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { ErrorCode, StrataError } from '../../shared/errors';
import { TOKEN_META_NAME } from './access';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/** The built renderer, served read-only; index.html gets the access token the web bridge needs. */
export class RendererFiles {
  private constructor(
    private readonly root: string,
    private readonly indexHtml: Buffer,
  ) {}

  static async open(rendererDir: string, token: string): Promise<RendererFiles> {
    let html: string;
    try {
      html = await readFile(join(rendererDir, 'index.html'), 'utf8');
    } catch {
      throw new StrataError(ErrorCode.InvalidInput, `the console is not built (${join(rendererDir, 'index.html')} is missing); run npm run build first`);
    }
    const meta = `<meta name="${TOKEN_META_NAME}" content="${token}" />`;
    return new RendererFiles(resolve(rendererDir), Buffer.from(html.replace('</head>', `  ${meta}\n  </head>`)));
  }

  /** The file for a URL path, or undefined when there is none (or the path tries to leave the folder). */
  async read(urlPath: string): Promise<StaticFile | undefined> {
    if (urlPath === '/' || urlPath === '/index.html') return { body: this.indexHtml, contentType: CONTENT_TYPES['.html']! };
    let decoded: string;
    try {
      decoded = decodeURIComponent(urlPath);
    } catch {
      return undefined;
    }
    const path = normalize(join(this.root, decoded));
    if (!path.startsWith(this.root + sep) || decoded.includes('\0')) return undefined;
    const contentType = CONTENT_TYPES[extname(path)];
    if (!contentType) return undefined;
    try {
      return { body: await readFile(path), contentType };
    } catch {
      return undefined;
    }
  }
}
