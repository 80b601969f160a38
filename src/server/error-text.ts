/**
 * Error messages quote what the client sent (a model name, an unknown field, a path) so the caller
 * sees what was wrong; quoting all of it would let a 3 MB model name come back as a 3 MB error and
 * land in every log line that records the message. A prefix is enough to recognise the value.
 */
export const ECHO_PREFIX_CHARS = 64;

/** Runs longer than this without a space are taken for an echoed value, not prose. */
const LONG_RUN_CHARS = 100;
/** Longest message and `param` an error body carries. */
const MESSAGE_MAX_CHARS = 1000;
const PARAM_MAX_CHARS = 200;

/** A client value for an error message: its first 64 characters, then an ellipsis. */
export function clipClientValue(value: string, maxChars = ECHO_PREFIX_CHARS): string {
  return value.length <= maxChars ? value : `${value.slice(0, maxChars)}…`;
}

const LONG_RUN = new RegExp(`\\S{${LONG_RUN_CHARS + 1},}`, 'g');
const OPENING = new Set(["'", '"', '(', '[']);
const CLOSING = new Set(["'", '"', ')', ']', '.', ',']);

/**
 * The renderer's safety net for messages built elsewhere (routing's "model '…' does not exist",
 * the not-found path): every overlong run is cut to a prefix, keeping its quotes so the
 * sentence still reads, and the whole message is capped.
 */
export function clipEchoedValues(message: string): string {
  const clipped = message.replace(LONG_RUN, (run) => {
    const opening = OPENING.has(run[0]) ? run[0] : '';
    const closing = CLOSING.has(run.at(-1)!) ? run.at(-1)! : '';
    return `${opening}${run.slice(opening.length, opening.length + ECHO_PREFIX_CHARS)}…${closing}`;
  });
  return clipClientValue(clipped, MESSAGE_MAX_CHARS);
}

/** A `param` is a field path the client's keys are spelled in; a path of megabyte keys is still short here. */
export function clipParam(param: string): string {
  return clipClientValue(param, PARAM_MAX_CHARS);
}
