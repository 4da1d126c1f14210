/**
 * JSON in and out for the handlers that run on the bare Node request (the osquery API, the gateway),
 * and the shape of their failures: the handlers receive a FailureRenderer (http/errors.ts, injected by
 * main.ts) and send what it renders, so the status table and the bodies stay in one place.
 *
 * Request bodies (`readJsonBody`) follow the same contract as the koa body parser: every body is JSON
 * whatever its content type, `gzip`/`deflate` content encodings are accepted, the size limit applies
 * before and after decompression (a gzip bomb stops at the limit), an empty body is `{}`, and only
 * objects or arrays are accepted.
 *
 * Small compressed bodies (every log batch and check-in) are inflated synchronously: a streaming
 * inflater costs ~5× the CPU of a one-shot inflate for a body of a few hundred bytes. Bodies above
 * SYNC_INFLATE_MAX go to the thread pool so a large backlog replay does not stall the event loop.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { AppError, invalid } from './errors.js';
import { nestedDeeperThan, tooDeepMessage } from './json-depth.js';

const SYNC_INFLATE_MAX = 64 * 1024;

const tooLarge = (limit: number): AppError =>
  new AppError('too_large', `request body is larger than the configured limit (${limit} bytes)`);

function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const fail = (err: AppError) => {
      stop();
      reject(err);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.resume(); // discard the rest; the response closes the connection
        fail(tooLarge(limit));
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (e: Error) => fail(invalid(`request body could not be read: ${e.message}`));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function inflateError(e: unknown, limit: number): AppError {
  if (e instanceof RangeError || (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(limit);
  return invalid(`malformed request body: ${(e as Error).message || 'invalid compressed data'}`);
}

async function inflate(buf: Buffer, encoding: string, limit: number): Promise<Buffer> {
  if (encoding === '' || encoding === 'identity') return buf;
  const gzip = encoding === 'gzip' || encoding === 'x-gzip';
  if (!gzip && encoding !== 'deflate')
    throw invalid(`unsupported content encoding "${encoding}": send application/json, optionally gzip or deflate`);
  const opts = { maxOutputLength: limit };
  if (buf.length <= SYNC_INFLATE_MAX) {
    try {
      return gzip ? zlib.gunzipSync(buf, opts) : zlib.inflateSync(buf, opts);
    } catch (e) {
      throw inflateError(e, limit);
    }
  }
  return new Promise((resolve, reject) => {
    const cb = (e: Error | null, out: Buffer) => (e ? reject(inflateError(e, limit)) : resolve(out));
    if (gzip) zlib.gunzip(buf, opts, cb);
    else zlib.inflate(buf, opts, cb);
  });
}

/**
 * Reads, inflates and parses a JSON object or array body; AppError (invalid / too_large) otherwise.
 * `turn`, when given, is awaited between reading the bytes and the work on them (shared/turns.ts).
 */
export async function readJsonBody(req: IncomingMessage, limit: number, turn?: () => Promise<void>): Promise<unknown> {
  const raw = await readRaw(req, limit);
  if (turn) await turn();
  const encoding = String(req.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const buf = await inflate(raw, encoding, limit);
  const text = buf.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw invalid(`malformed request body: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null)
    throw invalid('malformed request body: the JSON body must be an object');
  if (nestedDeeperThan(value)) throw invalid(`malformed request body: ${tooDeepMessage('the JSON body')}`);
  return value;
}

/** Writes a JSON answer (never cached): status, the JSON text, extra headers. */
type Headers = Readonly<Record<string, string>>;

/** The status and headers of a JSON answer (never cached), and the extra ones given. */
function jsonHead(res: ServerResponse, status: number, headers?: Headers): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  if (headers) {
    for (const k in headers) {
      const v = headers[k];
      if (v !== undefined) res.setHeader(k, v);
    }
  }
}

export function sendJson(res: ServerResponse, status: number, body: string, headers?: Headers): void {
  jsonHead(res, status, headers);
  res.end(body);
}

/**
 * Writes a 200 JSON answer given in pieces, one write at a time, waiting for the socket to drain between
 * them (chunked transfer encoding); stops when the client goes away. A large answer is then neither one
 * string converted nor one buffer encrypted in a single call on the event loop.
 */
export async function sendJsonParts(
  res: ServerResponse,
  parts: readonly Uint8Array[],
  headers?: Headers,
): Promise<void> {
  jsonHead(res, 200, headers);
  for (const part of parts) {
    if (res.destroyed) return;
    if (!res.write(part)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (!res.destroyed) res.end();
}

/** Sends one JSON answer (status, text, extra headers), as sendJson does. */
export type SendJson = (res: ServerResponse, status: number, body: string, headers?: Headers) => void;

/** Answers written together: `send` queues one, `flush` writes what waits now. */
export interface AnswerBatch {
  send: SendJson;
  flush(): void;
}

/**
 * Answers written together (the gateway's decisions). The first answer of a loop turn is written at once;
 * the next ones read in the same turn are queued and written in one go right after the event loop has
 * read every request that was ready (setImmediate runs after the poll phase), as soon as `max` wait, or
 * when the caller is about to do other work (`flush`: a decision must not wait behind an osquery log
 * batch read in the same turn). Under load the client is then woken once for a run of answers rather
 * than once per answer: on a 2-core machine, answering each request at once cost about 20 us of extra
 * kernel and TLS-write time per decision, more than the decision itself, because every write woke an
 * idle client thread. A lone decision (the usual case below saturation) is never held back.
 */
export function createAnswerBatch(max = 64): AnswerBatch {
  const queue: Array<[ServerResponse, number, string, Headers | undefined]> = [];
  /** An answer was written in this loop turn (a flush at its end is scheduled). */
  let turn = false;
  const write = (res: ServerResponse, status: number, body: string, headers: Headers | undefined): void => {
    if (res.writableEnded || res.destroyed) return; // the client went away meanwhile
    try {
      sendJson(res, status, body, headers);
    } catch {
      res.destroy();
    }
  };
  const flush = (): void => {
    if (queue.length === 0) return;
    for (const [res, status, body, headers] of queue.splice(0, queue.length)) write(res, status, body, headers);
  };
  const endOfTurn = (): void => {
    turn = false;
    flush();
  };
  const send: SendJson = (res, status, body, headers) => {
    if (!turn) {
      turn = true;
      setImmediate(endOfTurn);
      write(res, status, body, headers);
      return;
    }
    queue.push([res, status, body, headers]);
    if (queue.length >= max) flush();
  };
  return { send, flush };
}

/** Writes a 200 JSON answer. */
export const sendOk = (res: ServerResponse, body: string, headers?: Headers): void => sendJson(res, 200, body, headers);

/** A failure as a bare handler sends it: status, JSON text and headers, all chosen by the renderer. */
export interface RenderedFailure {
  status: number;
  body: string;
  headers: Headers;
}

/** Renders (and logs, once) any thrown value for one surface; `where` names the request in the log line. */
export type FailureRenderer = (raw: unknown, where: { reqId?: string; path: string }) => RenderedFailure;

/** Sends a rendered failure, with the handler's own transport headers (request id, Connection). */
export function sendFailure(res: ServerResponse, failure: RenderedFailure, extra?: Headers): void {
  sendJson(res, failure.status, failure.body, { ...failure.headers, ...extra });
}
