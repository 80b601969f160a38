"""Sidecar benchmark: real-time factor of Whisper base and tiny.en, OCR time, and the service's memory.

Runs the real service (`python -m sluice_sidecar`) once per configuration on this machine and prints a
markdown table. Speech is made with espeak-ng from test/fixtures/speech/sentences.txt: the short clips one
request each, and all of them read as one long clip (several 30 s Whisper windows).
RTF = audio seconds / processing seconds (client-side wall time per request, HTTP and decoding included);
higher is faster. Ratios are against the first row, measured in the same run.

    .venv/bin/python bench_sidecar.py [--threads N]
"""

import argparse
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from PIL import Image, ImageDraw, ImageFont

from harness.sidecar_process import post_audio, rss_bytes, running_sidecar
from harness.spoken_corpus import REPO_ROOT, corpus_word_error_rate, read_sentences, speak_all

CONFIGURATIONS = (("whisper/base", 1), ("whisper/base", 5), ("whisper/tiny.en", 1))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass
class Measurement:
    model: str
    beam_size: int
    short_audio_s: float
    short_processing_s: float
    long_audio_s: float
    long_processing_s: float
    corpus_wer: float
    ocr_ms: float | None = None
    rss_loaded_mb: float | None = None
    rss_peak_mb: float | None = None


def timed_transcription(client: httpx.Client, wav_path: Path) -> tuple[dict, float]:
    started = time.perf_counter()
    response = post_audio(client, wav_path)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.json(), elapsed


def ocr_image(directory: Path) -> Path:
    image = Image.new("RGB", (900, 220), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), 32)
    for row, line in enumerate(("Invoice number 4821", "Total due: 312 dollars", "Sluice gateway sidecar")):
        draw.text((30, 20 + row * 65), line, fill="black", font=font)
    path = directory / "ocr.png"
    image.save(path)
    return path


def measure(models_dir: Path, model: str, beam_size: int, threads: int, corpus, long_clip, work: Path,
            with_memory: bool) -> Measurement:
    arguments = ("--whisper-model", model, "--beam-size", str(beam_size), "--threads", str(threads), "--preload")
    with running_sidecar(models_dir, work / f"sidecar-{model.replace('/', '-')}-{beam_size}.log", arguments) as sidecar, \
            httpx.Client(base_url=sidecar.base_url, timeout=600) as client:
        rss_loaded = rss_bytes(sidecar.pid)[0]
        timed_transcription(client, corpus[0].wav_path)  # warm-up: first-call allocations
        pairs, short_audio, short_processing = [], 0.0, 0.0
        for sentence in corpus:
            body, elapsed = timed_transcription(client, sentence.wav_path)
            pairs.append((sentence.text, body["text"]))
            short_audio += body["duration"]
            short_processing += elapsed
        long_body, long_processing = timed_transcription(client, long_clip.wav_path)
        result = Measurement(model, beam_size, short_audio, short_processing, long_body["duration"],
                             long_processing, corpus_word_error_rate(pairs))
        if with_memory:
            image = ocr_image(work)
            with open(image, "rb") as file:
                client.post("/ocr", files={"file": ("ocr.png", file, "image/png")}).raise_for_status()  # warm-up
            started = time.perf_counter()
            with open(image, "rb") as file:
                client.post("/ocr", files={"file": ("ocr.png", file, "image/png")}).raise_for_status()
            result.ocr_ms = (time.perf_counter() - started) * 1000
            current, peak = rss_bytes(sidecar.pid)
            result.rss_loaded_mb, result.rss_peak_mb = rss_loaded / 2**20, max(current, peak) / 2**20
        return result


def machine_line() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} CPUs, {memory_gb:.0f} GiB, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--models-dir", type=Path,
                        default=Path(os.environ.get("SLUICE_MODELS_DIR", REPO_ROOT / "models")))
    arguments = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sluice-bench-") as scratch:
        work = Path(scratch)
        sentences = read_sentences()
        corpus = speak_all(sentences, work / "short")
        long_clip = speak_all([" ".join(sentences)], work / "long")[0]
        results = [measure(arguments.models_dir, model, beam_size, arguments.threads, corpus, long_clip, work,
                           with_memory=index == 0)
                   for index, (model, beam_size) in enumerate(CONFIGURATIONS)]
    print_report(results, arguments.threads, load_before, os.getloadavg()[0])


def print_report(results: list[Measurement], threads: int, load_before: float, load_after: float) -> None:
    baseline = results[0]
    baseline_rtf = baseline.short_audio_s / baseline.short_processing_s
    print(f"## Sidecar benchmark\n\nMachine: {machine_line()}; sidecar threads: {threads}; "
          f"load average {load_before:.1f} → {load_after:.1f} (other work on the machine slows every row).\n")
    print("| model | beam | short clips: audio s / processing s | RTF short | × first row | long clip: audio s / processing s"
          " | RTF long | corpus WER |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for result in results:
        rtf_short = result.short_audio_s / result.short_processing_s
        rtf_long = result.long_audio_s / result.long_processing_s
        print(f"| {result.model} | {result.beam_size} | {result.short_audio_s:.1f} / {result.short_processing_s:.2f} "
              f"| {rtf_short:.1f} | {rtf_short / baseline_rtf:.2f} | {result.long_audio_s:.1f} / "
              f"{result.long_processing_s:.2f} | {rtf_long:.1f} | {result.corpus_wer:.3f} |")
    print(f"\nOCR (RapidOCR, 900×220 PNG, 3 lines, warm): {baseline.ocr_ms:.0f} ms.\n")
    print("| sidecar memory (whisper/base + OCR) | MiB |\n| --- | --- |")
    print(f"| RSS after --preload, before any request | {baseline.rss_loaded_mb:.0f} |")
    print(f"| peak RSS after the transcriptions and OCR | {baseline.rss_peak_mb:.0f} |")


if __name__ == "__main__":
    main()
