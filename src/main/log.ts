import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogMessage } from 'electron-log';
import nodeLog from 'electron-log/node';

export interface ScopedLogger {
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
  debug(message: string, ...details: unknown[]): void;
}

export interface Logger {
  scope(name: string): ScopedLogger;
}

const SECRET_PATTERNS: Array<[RegExp, string]> = [
  [/(password|passwd|pwd|secret|token)(["']?\s*[:=]\s*["']?)[^"'\s,;&]+/gi, '$1$2***'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s]*:)[^@/\s]+@/gi, '$1***@'],
];

/** Masks passwords, tokens and credentials in URLs before anything reaches a log transport. */
export function redact(text: string): string {
  return SECRET_PATTERNS.reduce((current, [pattern, replacement]) => current.replace(pattern, replacement), text);
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (value instanceof Error) {
    const copy = new Error(redact(value.message));
    copy.name = value.name;
    copy.stack = value.stack ? redact(value.stack) : undefined;
    return copy;
  }
  return value;
}

export interface LoggerOptions {
  /** Log id, so the desktop app, the CLI and the agent write separate files. */
  logId: string;
  /** Where file logs go; none means no file. */
  file?: string;
  /** Lowest level echoed to stderr; false turns the console off (the CLI keeps stdout for results). */
  consoleLevel: 'error' | 'warn' | 'info' | 'debug' | false;
}

const LOG_FILE_MODE = 0o600;
const LOG_DIR_MODE = 0o700;

/**
 * A folder Strata creates for its logs is its owner's only; an existing folder is left as it is (it may be shared,
 * such as /tmp). A log file a version before this one created world-readable is narrowed to its owner.
 */
function prepareLogFile(file: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: LOG_DIR_MODE });
    chmodSync(file, LOG_FILE_MODE);
  } catch {
    // No file yet (electron-log creates it with LOG_FILE_MODE), or a folder we cannot change: logging goes on.
  }
}

/** electron-log in its Node flavour, with one scope per service and redaction on every message. */
export function createLogger(options: LoggerOptions): Logger {
  const log = nodeLog.create({ logId: options.logId });
  log.hooks.push((message: LogMessage) => ({ ...message, data: message.data.map(redactValue) }));
  if (options.file) {
    const file = options.file;
    prepareLogFile(file);
    log.transports.file.resolvePathFn = () => file;
    // Logs name hosts, users and queries: only their owner may read them.
    log.transports.file.writeOptions = { flag: 'a', mode: LOG_FILE_MODE, encoding: 'utf8' };
    log.transports.file.level = 'debug';
  } else {
    log.transports.file.level = false;
  }
  log.transports.console.level = options.consoleLevel;
  if (options.consoleLevel !== false) {
    log.transports.console.writeFn = ({ message }) => {
      process.stderr.write(`${message.scope ? `[${message.scope}] ` : ''}${message.data.map(String).join(' ')}\n`);
    };
  }
  return { scope: (name) => log.scope(name) };
}

/** A logger that keeps nothing, for pure code paths and tests that do not look at logs. */
export const silentLogger: Logger = {
  scope: () => ({ info() {}, warn() {}, error() {}, debug() {} }),
};
