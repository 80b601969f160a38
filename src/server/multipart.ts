import busboy from 'busboy';
import type { Request, Response } from 'express';
import { SluiceError } from '../../adapters/spec/index.js';
import { isDeclaredTooLarge, refuseOversizedBody, tooLarge, watchBodySize } from './body-limit.js';
import { clipClientValue } from './error-text.js';

export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface MultipartBody {
  fields: Record<string, string | string[]>;
  files: UploadedFile[];
}

/**
 * Reads a whole multipart/form-data body, bounded by `maxBytes` (the whole body); malformed input
 * is a 400. A body over the limit is answered 413 here, as soon as its size is known, and the
 * promise rejects with that error after the answer has gone (the error middleware then writes nothing).
 */
export function readMultipart(request: Request, response: Response, maxBytes: number): Promise<MultipartBody> {
  const type = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(type)) {
    return Promise.reject(new SluiceError('invalid-request', "the body must be multipart/form-data with a 'file' field", { param: 'file' }));
  }
  const encoding = request.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    // busboy would read compressed bytes as multipart and fail somewhere confusing; say why up front.
    return Promise.reject(
      new SluiceError('invalid-request', `Content-Encoding '${clipClientValue(encoding)}' is not accepted for uploads: send the multipart body uncompressed.`, { code: 'invalid_encoding' }),
    );
  }
  if (isDeclaredTooLarge(request, maxBytes)) {
    refuseOversizedBody(request, response, maxBytes, 'file');
    return Promise.reject(tooLarge(maxBytes, 'file'));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: request.headers, limits: { fileSize: maxBytes, files: 4, fields: 32, fieldSize: 1024 * 1024 } });
  } catch (error) {
    return Promise.reject(new SluiceError('invalid-request', `malformed multipart body: ${(error as Error).message}`));
  }
  return new Promise((resolve, reject) => {
    const fields: MultipartBody['fields'] = {};
    const files: UploadedFile[] = [];
    let failure: SluiceError | undefined;
    const fail = (error: SluiceError) => {
      failure ??= error;
      request.unpipe(parser);
      if (error.kind === 'payload-too-large') refuseOversizedBody(request, response, maxBytes, 'file'); // the rest stays unread
      else request.resume(); // a small malformed body: drain it so the client gets our answer
      reject(failure);
    };
    parser.on('field', (name, value) => {
      const existing = fields[name];
      fields[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    });
    parser.on('file', (field, stream, info) => {
      const parts: Buffer[] = [];
      stream.on('data', (part: Buffer) => parts.push(part));
      // busboy destroys an unfinished file stream with its error (a truncated body): unheard, that error would crash the process.
      stream.on('error', (error: Error) => fail(new SluiceError('invalid-request', `malformed multipart body: ${error.message}`)));
      stream.on('limit', () => fail(tooLarge(maxBytes, field)));
      stream.on('end', () => {
        files.push({ field, filename: info.filename ?? 'upload', contentType: info.mimeType || 'application/octet-stream', data: Buffer.concat(parts) });
      });
    });
    parser.on('error', (error: Error) => fail(new SluiceError('invalid-request', `malformed multipart body: ${error.message}`)));
    parser.on('close', () => {
      if (!failure) resolve({ fields, files });
    });
    request.on('error', (error) => fail(new SluiceError('invalid-request', `the upload failed: ${error.message}`)));
    request.pipe(parser);
    watchBodySize(request, response, maxBytes, () => fail(tooLarge(maxBytes, 'file')));
  });
}
