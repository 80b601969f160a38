import type { Request, Response } from 'express';
import { SluiceError } from '../../../adapters/spec/index.js';
import { headOf } from '../../pipeline/attempt.js';
import type { TranscriptionPipeline } from '../../pipeline/transcription-pipeline.js';
import { readMultipart } from '../multipart.js';
import { transcriptionFieldsSchema } from '../other-request-schemas.js';
import { callContext } from '../request-context.js';
import { setRecordHeaders } from '../sluice-headers.js';
import { renderTranscription } from '../transcription-format.js';
import { validate } from '../validate.js';

const AUDIO_EXTENSIONS = /\.(flac|mp3|mp4|mpeg|mpga|m4a|ogg|oga|opus|wav|webm|aac|amr|caf)$/i;

export function transcriptionsRoute(pipeline: TranscriptionPipeline, maxBytes: number) {
  return async (request: Request, response: Response) => {
    const { fields, files } = await readMultipart(request, response, maxBytes);
    const file = files.find((candidate) => candidate.field === 'file');
    const { file: _ignored, ...rest } = fields;
    const parsed = validate(transcriptionFieldsSchema, rest);
    if (!file) throw new SluiceError('invalid-request', "Missing required parameter: 'file'.", { param: 'file', code: 'missing_required_parameter' });
    if (file.data.length === 0) throw new SluiceError('invalid-request', "the uploaded 'file' is empty", { param: 'file' });
    if (!AUDIO_EXTENSIONS.test(file.filename) && !/^(audio|video)\//.test(file.contentType)) {
      throw new SluiceError('invalid-request', `Invalid file format for '${file.filename}'. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm`, { param: 'file' });
    }
    const granularities = [parsed['timestamp_granularities[]'] ?? parsed.timestamp_granularities ?? []].flat();
    const format = parsed.response_format ?? 'json';
    if (granularities.length > 0 && format !== 'verbose_json') {
      throw new SluiceError('invalid-request', "timestamp_granularities requires response_format 'verbose_json'", { param: 'timestamp_granularities' });
    }
    const { result, record } = await pipeline.transcribe(
      {
        model: parsed.model,
        file: { data: file.data, filename: file.filename, contentType: file.contentType },
        language: parsed.language,
        prompt: parsed.prompt,
        temperature: parsed.temperature,
        wantsWords: granularities.includes('word'),
      },
      callContext(request, response),
    );
    setRecordHeaders(response, headOf(record)!, record);
    const rendered = renderTranscription(result, format, granularities.includes('word'));
    response.type(rendered.contentType);
    response.send(typeof rendered.body === 'string' ? rendered.body : JSON.stringify(rendered.body));
  };
}
