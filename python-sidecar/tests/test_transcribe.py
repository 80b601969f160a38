"""POST /transcribe against the real service with whisper/base, on speech espeak-ng makes from our sentences."""

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.sidecar_process import post_audio as transcribe
from harness.spoken_corpus import corpus_word_error_rate, normalised_words, word_error_rate
from sluice_sidecar.settings import Settings
from sluice_sidecar.speech import WhisperEngine


MAX_CORPUS_WER = 0.3
# One sentence is 8-12 words: a single misheard phrase ("finance team" → "Fire and Steam") costs 0.27,
# and which phrase is misheard differs between machines, so one sentence gets the looser bound.
MAX_SENTENCE_WER = 0.5


def test_spoken_sentences_are_transcribed_within_the_word_error_rate(client, spoken_sentences):
    pairs = []
    for sentence in spoken_sentences:
        response = transcribe(client, sentence.wav_path)
        assert response.status_code == 200, response.text
        pairs.append((sentence.text, response.json()["text"]))
    corpus_wer = corpus_word_error_rate(pairs)
    report = "\n".join(f"  WER {word_error_rate(ref, hyp):.2f}  {ref!r} → {hyp!r}" for ref, hyp in pairs)
    assert corpus_wer <= MAX_CORPUS_WER, f"corpus WER {corpus_wer:.3f} > {MAX_CORPUS_WER}:\n{report}"


def test_transcript_has_the_verbose_json_shape(client, spoken_sentences):
    body = transcribe(client, spoken_sentences[0].wav_path).json()
    assert body["language"] == "en"  # detected: no language was given
    assert body["duration"] == pytest.approx(spoken_sentences[0].duration_s, abs=0.01)
    assert "words" not in body
    segment = body["segments"][0]
    assert segment["id"] == 0
    assert set(segment) == {"id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
                            "compression_ratio", "no_speech_prob"}
    assert all(isinstance(token, int) for token in segment["tokens"]) and segment["tokens"]
    assert body["text"] == "".join(s["text"] for s in body["segments"]).strip()


def test_segments_have_increasing_timestamps_within_the_duration(client, spoken_paragraph):
    body = transcribe(client, spoken_paragraph.wav_path).json()
    segments = body["segments"]
    assert len(segments) >= 2, body
    assert [segment["id"] for segment in segments] == list(range(len(segments)))
    for previous, segment in zip([None, *segments], segments):
        assert 0 <= segment["start"] < segment["end"] <= body["duration"] + 0.02, segment
        if previous is not None:
            assert segment["start"] >= previous["end"] - 0.02, (previous, segment)
    assert word_error_rate(spoken_paragraph.text, body["text"]) <= MAX_CORPUS_WER


def test_word_timestamps_when_asked(client, spoken_sentences):
    sentence = spoken_sentences[1]
    body = transcribe(client, sentence.wav_path, word_timestamps="true").json()
    words = body["words"]
    assert [w["word"] for w in words] and word_error_rate(sentence.text, " ".join(w["word"] for w in words)) <= MAX_SENTENCE_WER
    for previous, word in zip([None, *words], words):
        assert 0 <= word["start"] <= word["end"] <= body["duration"] + 0.02, word
        if previous is not None:
            assert word["start"] >= previous["start"], (previous, word)
        assert word["word"] == word["word"].strip()


def test_language_prompt_temperature_and_model_are_honoured(client, spoken_sentences):
    sentence = spoken_sentences[2]
    body = transcribe(client, sentence.wav_path, language="EN", prompt="Train timetable.", temperature="0.2",
                      model="whisper/tiny.en").json()
    assert body["language"] == "en"
    assert all(segment["temperature"] == 0.2 for segment in body["segments"])
    assert word_error_rate(sentence.text, body["text"]) <= MAX_SENTENCE_WER
    assert "whisper/tiny.en" in client.get("/health").json()["engines"]


BAD_UPLOADS = [
    ("random bytes named x.wav", "x.wav", random.Random(7).randbytes(48_000), "audio/wav"),
    ("empty file", "empty.wav", b"", "audio/wav"),
    ("text file", "notes.txt", b"Meeting notes\nNothing to hear here.\n" * 40, "text/plain"),
    ("wav header with no samples", "short.wav", None, "audio/wav"),
]


@pytest.mark.parametrize(("label", "filename", "content", "content_type"), BAD_UPLOADS,
                         ids=[row[0] for row in BAD_UPLOADS])
def test_undecodable_audio_is_a_400_and_the_service_lives_on(client, spoken_sentences, label, filename,
                                                           content, content_type):
    if content is None:
        content = spoken_sentences[0].wav_path.read_bytes()[:44]
    response = client.post("/transcribe", files={"file": (filename, content, content_type)})
    assert response.status_code == 400, label
    assert response.json() == {"error": {"message": response.json()["error"]["message"], "type": "invalid_request_error",
                                         "param": "file", "code": "invalid_audio"}}
    assert client.get("/health").json()["status"] == "ok"


BAD_FIELDS = [
    ({"language": "xx"}, "language", "unsupported_language"),
    ({"model": "../../etc"}, "model", "model_not_found"),
    ({"model": "whisper/large-v9"}, "model", "model_not_found"),
    ({"temperature": "3"}, "temperature", "invalid_value"),
    ({"temperature": "warm"}, "temperature", "invalid_value"),
    ({"word_timestamps": "maybe"}, "word_timestamps", "invalid_value"),
]


@pytest.mark.parametrize(("fields", "param", "code"), BAD_FIELDS, ids=[row[1] + "-" + row[2] for row in BAD_FIELDS])
def test_bad_fields_are_400_naming_the_field(client, spoken_sentences, fields, param, code):
    response = transcribe(client, spoken_sentences[0].wav_path, **fields)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


def test_a_missing_file_is_a_400(client):
    response = client.post("/transcribe", data={"language": "en"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "file"


def test_three_transcriptions_at_once_all_succeed_while_health_answers(client, spoken_paragraph):
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(transcribe, client, spoken_paragraph.wav_path) for _ in range(3)]
        started = time.perf_counter()
        health = client.get("/health")
        health_seconds = time.perf_counter() - started
        still_running = sum(not future.done() for future in futures)
        responses = [future.result() for future in futures]
    assert health.status_code == 200
    assert still_running > 0, "the transcriptions ended before /health was asked; the check proved nothing"
    assert health_seconds < 2, f"/health took {health_seconds:.2f} s while transcribing"
    for response in responses:
        assert response.status_code == 200, response.text
        assert word_error_rate(spoken_paragraph.text, response.json()["text"]) <= MAX_CORPUS_WER


def test_concurrent_first_calls_load_a_model_once(models_dir):
    engine = WhisperEngine(Settings(models_dir=models_dir, cpu_threads=1))
    barrier = threading.Barrier(3)

    def first_call():
        barrier.wait()
        return engine.model("whisper/tiny.en")

    with ThreadPoolExecutor(max_workers=3) as pool:
        models = list(pool.map(lambda _: first_call(), range(3)))
    assert models[0] is models[1] is models[2]
    assert engine.loaded() == ["whisper/tiny.en"]


def test_one_json_log_line_per_request_and_no_request_content(client, sidecar, spoken_sentences):
    secret_prompt = "Zanzibar-prompt-7731"
    sentence = spoken_sentences[3]
    response = transcribe(client, sentence.wav_path, prompt=secret_prompt, word_timestamps="true")
    assert response.status_code == 200
    log_text = sidecar.log_path.read_text()
    records = [json.loads(line) for line in log_text.splitlines() if line.strip()]
    requests = [r for r in records if r["msg"] == "request" and r["path"] == "/transcribe" and r["status"] == 200]
    assert requests and {"duration_ms", "model", "audio_seconds", "language"} <= set(requests[-1])
    assert secret_prompt not in log_text
    # The words Whisper heard this time, not the ones we hope it heard: those vary between machines.
    heard = [word for word in normalised_words(response.json()["text"]) if len(word) >= 6]
    assert len(heard) >= 2, response.json()["text"]
    for word in {*heard, "breeze", "quarterly", "apples", "children"}:
        assert word not in log_text.lower()
