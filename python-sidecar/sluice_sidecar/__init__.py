"""Sluice's Python sidecar: models that live best in Python (Whisper, OCR)."""

import os

# Weights come only from the models directory, never from a hub: huggingface_hub (imported by faster-whisper)
# reads this when it is first imported, so it is set before anything in the package imports it.
os.environ["HF_HUB_OFFLINE"] = "1"
