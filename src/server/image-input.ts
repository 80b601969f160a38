import { SluiceError } from '../../adapters/spec/index.js';

export interface ImageInput {
  data: Buffer;
  filename: string;
  contentType: string;
}

/** Image formats by their first bytes: what the sidecar's decoder (Pillow/OpenCV) reads. */
const SIGNATURES: readonly { type: string; extension: string; matches(data: Buffer): boolean }[] = [
  { type: 'image/png', extension: 'png', matches: (data) => data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', extension: 'jpg', matches: (data) => data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff },
  { type: 'image/gif', extension: 'gif', matches: (data) => data.subarray(0, 4).toString('latin1') === 'GIF8' },
  { type: 'image/webp', extension: 'webp', matches: (data) => data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP' },
  { type: 'image/bmp', extension: 'bmp', matches: (data) => data.subarray(0, 2).toString('latin1') === 'BM' },
  { type: 'image/tiff', extension: 'tiff', matches: (data) => ['II*\u0000', 'MM\u0000*'].includes(data.subarray(0, 4).toString('latin1')) },
];

const DATA_URL = /^data:([^;,]*)(;[^,]*)?,/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The `image` of a JSON request: a data URL (`data:image/png;base64,…`, as chat's image_url
 * parts carry it) or bare base64. Refused with a 400 naming `param` unless it decodes to an image
 * whose format is known by its first bytes; the type is read from those bytes, not the claim.
 */
export function decodeImageString(value: string, param: string): ImageInput {
  let payload = value.trim();
  const dataUrl = DATA_URL.exec(payload);
  if (dataUrl) {
    if (!dataUrl[2]?.split(';').includes('base64')) throw new SluiceError('invalid-request', `'${param}' must be a base64 data URL (data:image/png;base64,...)`, { param });
    payload = payload.slice(dataUrl[0].length);
  } else if (/^https?:\/\//i.test(payload)) {
    throw new SluiceError('invalid-request', `'${param}' must be the image itself (a data URL or base64), not a URL: send the bytes`, { param });
  }
  const compact = payload.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 === 1 || !BASE64.test(compact)) {
    throw new SluiceError('invalid-request', `'${param}' is not valid base64`, { param, code: 'invalid_image' });
  }
  return sniffedImage(Buffer.from(compact, 'base64'), 'image', param);
}

/** An uploaded file, typed by its bytes; anything that is not a known image format is a 400. */
export function sniffedImage(data: Buffer, filename: string, param: string): ImageInput {
  if (data.length === 0) throw new SluiceError('invalid-request', `'${param}' is empty`, { param });
  const format = SIGNATURES.find((signature) => signature.matches(data));
  if (!format) throw new SluiceError('invalid-request', `'${param}' is not an image: expected PNG, JPEG, WebP, BMP, GIF or TIFF`, { param, code: 'invalid_image' });
  const name = filename.includes('.') ? filename : `${filename}.${format.extension}`;
  return { data, filename: name, contentType: format.type };
}
