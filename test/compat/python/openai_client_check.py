"""Drives Sluice with the official OpenAI Python SDK, as a user who only changed `base_url` would.

Usage: openai_client_check.py <base_url> [api_key]

Prints one JSON object: one entry per check, each either the observed values or {"error": "..."},
so the TypeScript test (test/compat/python-sdk.test.ts) can assert on every check separately.
"""

import json
import math
import sys
import traceback
from typing import Any, Callable, Dict, List, Literal

import openai
from pydantic import BaseModel


class Weather(BaseModel):
    city: str
    temperature_c: float
    conditions: List[Literal["sunny", "rainy"]]


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def check_chat(client: openai.OpenAI) -> Dict[str, Any]:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hello from python"}],
        n=2,
        seed=7,
    )
    completion = raw.parse()
    return {
        "contents": [choice.message.content for choice in completion.choices],
        "finish_reasons": [choice.finish_reason for choice in completion.choices],
        "total_tokens": completion.usage.total_tokens if completion.usage else None,
        "route": raw.headers.get("x-sluice-route"),
        "model": raw.headers.get("x-sluice-model"),
        "request_id": raw.headers.get("x-sluice-request-id"),
        "cost_usd": raw.headers.get("x-sluice-cost-usd"),
    }


def check_stream(client: openai.OpenAI) -> Dict[str, Any]:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "stream to python"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces: List[str] = []
    usage = None
    chunks = 0
    usage_chunks = 0
    usage_chunk_choices = None
    for chunk in stream:
        chunks += 1
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
        if chunk.usage is not None:
            usage_chunks += 1
            usage = chunk.usage.model_dump()
            usage_chunk_choices = len(chunk.choices)
    return {
        "text": "".join(pieces),
        "chunks": chunks,
        "usage_chunks": usage_chunks,
        "usage": usage,
        "usage_chunk_choices": usage_chunk_choices,
    }


def check_tools(client: openai.OpenAI) -> Dict[str, Any]:
    completion = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Use get_weather for Paris"}],
        tools=[WEATHER_TOOL],
    )
    choice = completion.choices[0]
    calls = choice.message.tool_calls or []
    # The same through the streaming helper, which assembles the tool-call deltas itself.
    with client.chat.completions.stream(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Use get_weather for Paris"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        done_events = [event.name for event in stream if event.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()
    streamed = final.choices[0].message.tool_calls or []
    return {
        "finish_reason": choice.finish_reason,
        "calls": [{"id": call.id, "name": call.function.name, "arguments": json.loads(call.function.arguments)} for call in calls],
        "streamed_finish_reason": final.choices[0].finish_reason,
        "streamed_calls": [{"name": call.function.name, "arguments": json.loads(call.function.arguments)} for call in streamed],
        "streamed_done_events": done_events,
    }


def check_parse(client: openai.OpenAI) -> Dict[str, Any]:
    parse = getattr(client.chat.completions, "parse", None) or client.beta.chat.completions.parse
    completion = parse(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Weather in Paris as JSON"}],
        response_format=Weather,
    )
    message = completion.choices[0].message
    return {
        "is_weather": isinstance(message.parsed, Weather),
        "parsed": message.parsed.model_dump() if message.parsed else None,
        "refusal": message.refusal,
    }


def check_embeddings(client: openai.OpenAI) -> Dict[str, Any]:
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["the quick brown fox", "lazy dog"])
    default = raw.parse()
    # What crossed the wire: the SDK's own default encoding, and the answer before the SDK decoded it.
    sent = json.loads(raw.http_request.content)
    wire_embedding = raw.http_response.json()["data"][0]["embedding"]
    short = client.embeddings.create(model="text-embedding-3-small", input="the quick brown fox", dimensions=256, encoding_format="float")
    vector = default.data[0].embedding
    return {
        "sent_encoding_format": sent.get("encoding_format"),
        "wire_embedding_type": type(wire_embedding).__name__,
        "count": len(default.data),
        "indices": [item.index for item in default.data],
        "dims": len(vector),
        "all_floats": all(isinstance(value, float) for value in vector),
        "norm": math.sqrt(sum(value * value for value in vector)),
        "short_dims": len(short.data[0].embedding),
        "short_norm": math.sqrt(sum(value * value for value in short.data[0].embedding)),
        "prompt_tokens": default.usage.prompt_tokens,
    }


def check_transcription(client: openai.OpenAI) -> Dict[str, Any]:
    audio = "Hello there. This is Sluice speaking.".encode("utf-8")
    as_json = client.audio.transcriptions.create(model="whisper-1", file=("speech.mp3", audio, "audio/mpeg"))
    as_srt = client.audio.transcriptions.create(model="whisper-1", file=("speech.mp3", audio, "audio/mpeg"), response_format="srt")
    verbose = client.audio.transcriptions.create(
        model="whisper-1", file=("speech.mp3", audio, "audio/mpeg"), response_format="verbose_json"
    )
    return {
        "text": as_json.text,
        "srt": as_srt if isinstance(as_srt, str) else repr(as_srt),
        "verbose_language": verbose.language,
        "verbose_segments": [segment.text.strip() for segment in (verbose.segments or [])],
    }


def check_errors(client: openai.OpenAI) -> Dict[str, Any]:
    result: Dict[str, Any] = {}
    try:
        client.chat.completions.create(model="gpt-9-imaginary", messages=[{"role": "user", "content": "hi"}])
        result["not_found"] = {"raised": None}
    except openai.NotFoundError as error:
        result["not_found"] = {"raised": "NotFoundError", "status": error.status_code, "code": error.code, "param": error.param}
    try:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], temperature=7)
        result["bad_request"] = {"raised": None}
    except openai.BadRequestError as error:
        result["bad_request"] = {"raised": "BadRequestError", "status": error.status_code, "param": error.param}
    try:
        client.chat.completions.create(model="only-429", messages=[{"role": "user", "content": "hi"}])
        result["rate_limited"] = {"raised": None}
    except openai.RateLimitError as error:
        result["rate_limited"] = {"raised": "RateLimitError", "status": error.status_code, "retry_after": error.response.headers.get("retry-after")}
    return result


CHECKS: Dict[str, Callable[[openai.OpenAI], Dict[str, Any]]] = {
    "chat": check_chat,
    "stream": check_stream,
    "tools": check_tools,
    "parse": check_parse,
    "embeddings": check_embeddings,
    "transcription": check_transcription,
    "errors": check_errors,
}


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: openai_client_check.py <base_url> [api_key]")
    base_url = sys.argv[1]
    api_key = sys.argv[2] if len(sys.argv) > 2 else "sk-test-anything"
    # max_retries=0: a 429 is reported as the gateway sent it, not retried away.
    client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    results: Dict[str, Any] = {"sdk_version": openai.__version__}
    for name, check in CHECKS.items():
        try:
            results[name] = check(client)
        except Exception as error:  # reported per check, so the test names what broke
            results[name] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
