import { readFileSync, statSync } from 'node:fs';
import type { ConnectionOptions as TlsConnectOptions } from 'node:tls';
import type { SslOptions } from 'mysql2';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { TlsConfig } from '../../shared/profile';

/** The certificates and key for one shard or Redis, read from the profile's files; never logged. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  require: boolean;
}

function readPem(path: string, what: string, label: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a folder' : (code ?? String(error));
    throw new StrataError(ErrorCode.TlsFileRefused, `${label}: cannot read its TLS ${what} ${path}: ${reason}`, { cause: error });
  }
  if (!data.includes('-----BEGIN ')) throw new StrataError(ErrorCode.TlsFileRefused, `${label}: its TLS ${what} ${path} is not a PEM file`);
  return data;
}

/**
 * Reads the files a `tls` block names. A private key that group or others may read is refused, as ssh refuses
 * such a key: anyone on the machine could impersonate Strata to the cluster. (Windows has no such mode bits.)
 */
export function readTlsMaterial(tls: TlsConfig & { require: boolean }, label: string, platform: NodeJS.Platform = process.platform): TlsMaterial {
  if (tls.key && platform !== 'win32') {
    let mode: number | undefined;
    try {
      mode = statSync(tls.key).mode;
    } catch {
      // readPem below names the problem.
    }
    if (mode !== undefined && (mode & 0o044) !== 0) {
      const octal = (mode & 0o777).toString(8).padStart(4, '0');
      throw new StrataError(
        ErrorCode.TlsFileRefused,
        `${label}: its TLS key ${tls.key} is readable by group or others (mode ${octal}); make it private with chmod 600 ${tls.key}`,
      );
    }
  }
  return {
    ca: tls.ca ? readPem(tls.ca, 'CA', label) : undefined,
    cert: tls.cert ? readPem(tls.cert, 'certificate', label) : undefined,
    key: tls.key ? readPem(tls.key, 'key', label) : undefined,
    servername: tls.servername,
    require: tls.require,
  };
}

/** mysql2's `ssl`: the certificate is always verified (chain to `ca` or the system CAs; the host name when host is one). */
export function mysqlSslOptions(material: TlsMaterial): SslOptions {
  return { ca: material.ca, cert: material.cert, key: material.key, rejectUnauthorized: true, verifyIdentity: true };
}

/** ioredis's `tls`, passed to tls.connect: verified against `ca` (or the system CAs), the name checked is `servername` or the host. */
export function redisTlsOptions(material: TlsMaterial): TlsConnectOptions {
  return {
    ca: material.ca,
    cert: material.cert,
    key: material.key,
    rejectUnauthorized: true,
    ...(material.servername ? { servername: material.servername } : {}),
  };
}

const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** Node's messages for the certificate errors, mapped back to their codes. */
const NODE_CERTIFICATE_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/^self[- ]signed certificate$/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/unable to get issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT'],
  [/certificate signature failure/i, 'CERT_SIGNATURE_FAILURE'],
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [/does not match certificate's altnames/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
];

/**
 * Says in words why a TLS connection failed, or undefined when `error` is not about TLS. Works for mysql2's and
 * Node's errors alike (ioredis passes Node's through).
 */
export function describeTlsFailure(error: unknown): string | undefined {
  if (error instanceof StrataError) return undefined;
  const { code: rawCode, errno, message = '' } = (error ?? {}) as { code?: unknown; errno?: number; message?: string };
  const code = typeof rawCode === 'string' ? rawCode : undefined;
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') return 'the server does not offer TLS, and the profile asks for TLS; refusing to connect without it';
  // MySQL 8 and MariaDB with require_secure_transport: the server refuses a plain connection.
  if (errno === 3159 || /insecure transport/i.test(message)) return 'the server accepts only TLS connections; add a tls block to this entry of the profile';
  // mysql2 replaces Node's certificate code with HANDSHAKE_SSL_ERROR and keeps only Node's message.
  const certificateCode = code === 'HANDSHAKE_SSL_ERROR' ? NODE_CERTIFICATE_MESSAGES.find(([pattern]) => pattern.test(message))?.[1] : code;
  if (certificateCode && UNTRUSTED_CERTIFICATE.has(certificateCode)) return `its certificate is not signed by a trusted CA (${certificateCode}); check tls.ca`;
  if (certificateCode === 'CERT_HAS_EXPIRED') return 'its certificate has expired';
  if (certificateCode === 'CERT_NOT_YET_VALID') return 'its certificate is not valid yet';
  if (certificateCode === 'ERR_TLS_CERT_ALTNAME_INVALID') return `its certificate is not for this host name (${message})`;
  if (code === 'HANDSHAKE_SSL_ERROR') return `the TLS handshake failed (${message.split('\n')[0]})`;
  if (code === 'EPROTO' || code?.startsWith('ERR_SSL_') || /\b(ssl|tls)\b.*(alert|handshake|wrong version)/i.test(message)) {
    return `the TLS handshake failed (${message.split('\n')[0]}); is TLS enabled on this port, and does the server accept this client certificate?`;
  }
  return undefined;
}

/**
 * Redis over TLS: a plain Redis never answers a TLS client (it waits for a line the handshake never sends), so
 * the only sign is the connect timeout; with TLS configured it is reported as TLS, naming both possible causes.
 */
export function redisTlsError(error: unknown, where: string, connectTimeoutMs: number): StrataError | undefined {
  if ((error as { code?: unknown } | undefined)?.code === 'ETIMEDOUT') {
    return new StrataError(
      ErrorCode.TlsFailed,
      `${where}: the TLS handshake did not finish within ${connectTimeoutMs / 1000} s; is TLS enabled on this port (a plain Redis never answers a TLS client), and is the server up?`,
      { cause: error },
    );
  }
  return tlsError(error, where);
}

/** A coded TlsFailed error naming the entry, when `error` is about TLS. */
export function tlsError(error: unknown, where: string): StrataError | undefined {
  const reason = describeTlsFailure(error);
  return reason === undefined ? undefined : new StrataError(ErrorCode.TlsFailed, `${where}: ${reason}`, { cause: error });
}
