export * from './adapter.js';
export * from './chat.js';
export * from './embeddings.js';
export * from './errors.js';
export * from './transcription.js';
export * from './message-text.js';
export * from './chunk-factory.js';
