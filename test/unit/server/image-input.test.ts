import { describe, expect, it } from 'vitest';
import { decodeImageString, sniffedImage } from '../../../src/server/image-input.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('rest of the file')]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('jfif')]);

describe('decodeImageString', () => {
  it('decodes a data URL and bare base64 (line breaks allowed), typing the image by its bytes, not its claim', () => {
    expect(decodeImageString(`data:image/png;base64,${PNG.toString('base64')}`, 'image')).toEqual({ data: PNG, filename: 'image.png', contentType: 'image/png' });
    const wrapped = JPEG.toString('base64').replace(/(.{4})/g, '$1\n');
    expect(decodeImageString(wrapped, 'image')).toMatchObject({ contentType: 'image/jpeg', filename: 'image.jpg' });
    expect(decodeImageString(`data:image/gif;base64,${JPEG.toString('base64')}`, 'image').contentType).toBe('image/jpeg');
  });

  it.each([
    ['a URL, which it never fetches', 'https://example.com/a.png', undefined],
    ['a data URL that is not base64', 'data:image/png,rawbytes', undefined],
    ['text that is not base64', 'not base64 at all!', 'invalid_image'],
    ['base64 of something that is not an image', Buffer.from('hello').toString('base64'), 'invalid_image'],
    ['nothing after the data URL header', 'data:image/png;base64,', undefined],
  ])('refuses %s with invalid-request on the field', (_case, value, code) => {
    let caught: unknown;
    try {
      decodeImageString(value, 'image');
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ kind: 'invalid-request', detail: { param: 'image', ...(code ? { code } : {}) } });
  });
});

describe('sniffedImage', () => {
  it('keeps an upload’s name, and adds the extension its bytes say when it has none', () => {
    expect(sniffedImage(PNG, 'scan.png', 'file')).toMatchObject({ filename: 'scan.png', contentType: 'image/png' });
    expect(sniffedImage(PNG, 'upload', 'file').filename).toBe('upload.png');
    expect(() => sniffedImage(Buffer.alloc(0), 'x.png', 'file')).toThrow("'file' is empty");
  });
});
