import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, StrataError } from '../../shared/errors';
import { RENDERER_CONTENT_TYPES, rendererFile } from '../electron/app-protocol';
import { TOKEN_META_NAME } from './access';

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
    if (urlPath === '/' || urlPath === '/index.html') return { body: this.indexHtml, contentType: RENDERER_CONTENT_TYPES['.html']! };
    const file = rendererFile(this.root, urlPath);
    if (!file) return undefined;
    try {
      return { body: await readFile(file.path), contentType: file.contentType };
    } catch {
      return undefined;
    }
  }
}
