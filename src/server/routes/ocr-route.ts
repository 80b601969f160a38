import type { Request, RequestHandler, Response } from 'express';
import { SluiceError } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import type { LocalTaskPipeline } from '../../pipeline/local-task-pipeline.js';
import { decodeImageString, sniffedImage, type ImageInput } from '../image-input.js';
import { readMultipart } from '../multipart.js';
import { ocrFieldsSchema, ocrRequestSchema } from '../other-request-schemas.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { validate } from '../validate.js';

/**
 * `POST /v1/ocr`: a multipart `file` (and `model`), or JSON `{"image": "<data URL or base64>"}`.
 * Answers `{text, blocks: [{text, box, score}]}`, blocks top to bottom; `box` is four [x, y]
 * corners in the image's pixels, clockwise from the top left.
 */
export function ocrRoute(pipeline: LocalTaskPipeline, json: RequestHandler, maxUploadBytes: number) {
  return async (request: Request, response: Response) => {
    const { model, image } = /^multipart\//i.test(request.headers['content-type'] ?? '') ? await fromMultipart(request, response, maxUploadBytes) : await fromJson(request, response, json);
    const { result, record } = await pipeline.ocr({ model, image }, callContext(request, response));
    setRecordHeaders(response, headOf(record)!, record);
    response.json({ text: result.text, blocks: result.blocks });
  };
}

async function fromMultipart(request: Request, response: Response, maxBytes: number): Promise<{ model?: string; image: ImageInput }> {
  const { fields, files } = await readMultipart(request, response, maxBytes);
  const { file: _ignored, ...rest } = fields;
  const parsed = validate(ocrFieldsSchema, rest);
  const file = files.find((candidate) => candidate.field === 'file');
  if (!file) throw new SluiceError('invalid-request', "Missing required parameter: 'file'.", { param: 'file', code: 'missing_required_parameter' });
  return { model: parsed.model, image: sniffedImage(file.data, file.filename, 'file') };
}

async function fromJson(request: Request, response: Response, json: RequestHandler): Promise<{ model?: string; image: ImageInput }> {
  await new Promise<void>((resolve, reject) => json(request, response, (error?: unknown) => (error ? reject(error) : resolve())));
  const body = validate(ocrRequestSchema, request.body);
  return { model: body.model, image: decodeImageString(body.image, 'image') };
}
