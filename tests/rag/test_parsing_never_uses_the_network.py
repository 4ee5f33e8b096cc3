"""Parsing works with no network at all (LGWAN, CI): no spaCy model download, no telemetry, no lookups.

unstructured 0.27 downloads spaCy's en_core_web_sm the first time its English heuristics run and pings its
analytics on import; both are attempts that a blocked network turns into errors or silent delays.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.parsing import parse
from tests.rag import documents

ROOT = Path(__file__).resolve().parents[2]


def samples() -> dict[str, bytes]:
    return {
        "a.docx": documents.docx_bytes(),
        "a.pptx": documents.pptx_bytes(),
        "a.xlsx": documents.xlsx_bytes(),
        "a.pdf": documents.pdf_bytes([["日本語の本文です。", "English text with a verb runs here."]]),
        "a.html": "<h1>Title Case Heading</h1><p>This English sentence has a verb.</p><p>日本語。</p>".encode(),
        "a.htm": b"<p>Short Title</p>",
        "a.md": b"# Heading\n\nAn English paragraph that is narrative text.\n",
        "a.txt": b"ENGLISH TITLE\n\nNarrative text is written here.",
        "a.csv": "name,city\nTaro,Maebashi\n".encode("cp932"),
    }


@pytest.mark.parametrize("filename", list(samples()))
def test_every_format_parses_with_the_network_blocked(no_network, filename):
    document = parse(filename, samples()[filename])
    assert document.sections
    assert no_network == []


def test_a_fresh_process_parses_every_format_without_a_single_connection_attempt(tmp_path):
    """In a new interpreter, so that import-time traffic and the first-use model download are covered too."""
    for name, data in samples().items():
        (tmp_path / name).write_bytes(data)
    script = f"""
import json, pathlib, sys
from tests.rag import network_guard
network_guard.install()
from rag.parsing import parse
results = {{}}
for path in sorted(pathlib.Path({str(tmp_path)!r}).iterdir()):
    results[path.name] = len(parse(path.name, path.read_bytes()).sections)
print(json.dumps({{"attempts": network_guard.attempts, "sections": results}}))
"""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DO_NOT_TRACK", "SCARF_NO_ANALYTICS", "UNSTRUCTURED_DISABLE_NOTICE")}
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    assert report["sections"].keys() == samples().keys()
    assert all(count > 0 for count in report["sections"].values()), report


def test_unstructured_text_heuristics_run_on_a_blank_spacy_pipeline_and_a_download_is_refused(no_network):
    from rag.parsing._offline import OfflineViolation, load_unstructured

    load_unstructured()
    import unstructured.nlp.tokenize as tokenize
    from unstructured.partition.text_type import is_possible_narrative_text, is_possible_title

    is_possible_title("Annual Report")
    is_possible_narrative_text("The committee approves the budget every year.")
    assert tokenize.sent_tokenize("First one. Second one.") == ["First one.", "Second one."]
    with pytest.raises(OfflineViolation):
        tokenize._install_spacy_model()
    assert no_network == []
    assert os.environ["SCARF_NO_ANALYTICS"] and os.environ["DO_NOT_TRACK"]
