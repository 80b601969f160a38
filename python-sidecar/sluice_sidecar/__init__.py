"""Sluice's Python sidecar: models that live best in Python (Whisper, OCR)."""
