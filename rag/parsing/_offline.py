"""Loads ``unstructured`` so that it never touches the network (LGWAN and CI have no internet).

unstructured 0.27 reaches out in three ways, all of which are closed here:
- importing it sends an analytics ping, and every partition call a telemetry event, unless ``DO_NOT_TRACK`` or
  ``SCARF_NO_ANALYTICS`` is set before the import;
- its English text-type heuristics (``is_possible_title``/``is_possible_narrative_text``, run on every element
  of docx, pptx, xlsx and html regardless of ``languages`` or ``UNSTRUCTURED_LANGUAGE_CHECKS``) load spaCy's
  ``en_core_web_sm`` and, when it is missing, download and pip-install it into site-packages at run time;
- ``partition_html(url=...)`` fetches pages (never called with ``url`` here).

The heuristics only decide between Title/NarrativeText/Text, which is meaningless for Japanese text and unused
by Akagi (headings come from styles, heading tags and title placeholders), so spaCy gets a blank English
pipeline with a rule-based sentencizer: no model, no download, and much faster.
"""

from __future__ import annotations

import os
import threading

_lock = threading.Lock()
_ready = False


class OfflineViolation(RuntimeError):
    pass


def load_unstructured() -> None:
    """Call before importing anything from ``unstructured``; idempotent and thread-safe."""
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        for name in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS"):
            if not os.environ.get(name, "").strip():
                os.environ[name] = "1"
        os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
        os.environ.setdefault("UNSTRUCTURED_LANGUAGE_CHECKS", "false")

        import spacy
        import unstructured.nlp.tokenize as tokenize

        missing = [name for name in ("_get_nlp", "_install_spacy_model") if not hasattr(tokenize, name)]
        if missing:  # an upgrade moved the hook: refuse rather than silently download at run time
            raise OfflineViolation(f"unstructured.nlp.tokenize has no {', '.join(missing)}; re-check rag/parsing")

        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")

        def blank_pipeline():
            return nlp

        def refuse_download() -> None:
            raise OfflineViolation("unstructured tried to download a spaCy model; Akagi must stay offline")

        tokenize._get_nlp = blank_pipeline
        tokenize._install_spacy_model = refuse_download
        _ready = True
