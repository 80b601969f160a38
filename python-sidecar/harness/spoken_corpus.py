"""Speech made on the spot with espeak-ng from sentences kept in the repo, and the word error rate."""

import re
import shutil
import subprocess
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SENTENCES_FILE = REPO_ROOT / "test" / "fixtures" / "speech" / "sentences.txt"


@dataclass(frozen=True)
class SpokenSentence:
    text: str
    wav_path: Path

    @property
    def duration_s(self) -> float:
        with wave.open(str(self.wav_path)) as audio:
            return audio.getnframes() / audio.getframerate()


def read_sentences(path: Path = SENTENCES_FILE) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def espeak_binary() -> str:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise RuntimeError("espeak-ng is not installed (Debian package espeak-ng): run make setup")
    return binary


def speak(text: str, wav_path: Path) -> Path:
    """A WAV (22.05 kHz mono, 16-bit) of espeak-ng's default English voice at its default 175 words/minute."""
    subprocess.run([espeak_binary(), "-v", "en", "-w", str(wav_path), text], check=True, capture_output=True)
    return wav_path


def speak_all(sentences: list[str], directory: Path) -> list[SpokenSentence]:
    directory.mkdir(parents=True, exist_ok=True)
    return [SpokenSentence(text, speak(text, directory / f"sentence-{index:02d}.wav"))
            for index, text in enumerate(sentences)]


def normalised_words(text: str) -> list[str]:
    """Lower case, accents and punctuation dropped; hyphens split words, apostrophes join them."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("'", "")
    return re.sub(r"[^a-z0-9]+", " ", folded).split()


def word_edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance over words: substitutions, insertions and deletions each cost 1."""
    previous = list(range(len(hypothesis) + 1))
    for row, reference_word in enumerate(reference, start=1):
        current = [row] + [0] * len(hypothesis)
        for column, hypothesis_word in enumerate(hypothesis, start=1):
            current[column] = min(
                previous[column] + 1,
                current[column - 1] + 1,
                previous[column - 1] + (reference_word != hypothesis_word),
            )
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    reference_words = normalised_words(reference)
    if not reference_words:
        raise ValueError("the reference has no words")
    return word_edit_distance(reference_words, normalised_words(hypothesis)) / len(reference_words)


def corpus_word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Errors over all reference words (not the mean of per-sentence rates, which overweights short ones)."""
    errors = sum(word_edit_distance(normalised_words(ref), normalised_words(hyp)) for ref, hyp in pairs)
    return errors / sum(len(normalised_words(ref)) for ref, _ in pairs)
