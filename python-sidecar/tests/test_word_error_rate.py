"""The WER the speech tests rely on: word-level edit distance after normalising case and punctuation."""

import pytest

from harness.spoken_corpus import corpus_word_error_rate, normalised_words, word_error_rate


def test_normalisation_drops_case_and_punctuation():
    assert normalised_words("Hello, World! It's a well-known café.") == ["hello", "world", "its", "a", "well",
                                                                       "known", "cafe"]


@pytest.mark.parametrize(("reference", "hypothesis", "expected"), [
    ("the cat sat", "The cat sat.", 0.0),
    ("the cat sat", "the bat sat", 1 / 3),          # one substitution
    ("the cat sat", "the cat sat down", 1 / 3),     # one insertion
    ("the cat sat", "cat sat", 1 / 3),              # one deletion
    ("the cat sat", "", 1.0),
    ("a b", "x y z w", 2.0),                        # WER is not capped at 1
])
def test_word_error_rate(reference, hypothesis, expected):
    assert word_error_rate(reference, hypothesis) == pytest.approx(expected)


def test_corpus_rate_weights_by_reference_words():
    pairs = [("one two three four", "one two three four"), ("five", "six")]
    assert corpus_word_error_rate(pairs) == pytest.approx(1 / 5)


def test_an_empty_reference_is_refused():
    with pytest.raises(ValueError):
        word_error_rate("  ...  ", "anything")
