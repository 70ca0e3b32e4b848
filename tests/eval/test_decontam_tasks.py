"""Every evaluated task feeds curate's decontamination, generative ones included: a training
document that quotes an evaluated translation sentence or maths question is found."""

from __future__ import annotations

import json
from pathlib import Path

from openeurollm.data.decontam import Decontaminator


def test_generative_and_published_tasks_are_indexed(tmp_path: Path) -> None:
    aligned = tmp_path / "aligned"
    aligned.mkdir()
    (aligned / "en.txt").write_text(
        "the old lighthouse keeper painted every window of the tower a different colour\n"
    )
    (aligned / "de.txt").write_text(
        "der alte leuchtturmwärter strich jedes fenster des turms in einer anderen farbe\n"
    )
    gsm = tmp_path / "gsm" / "DE"
    gsm.mkdir(parents=True)
    question = "Lena backt zwölf Kuchen und verkauft an jedem Markttag genau drei davon am Stand"
    (gsm / "test.jsonl").write_text(
        json.dumps({"question": question, "answer": "4\n#### 4"}) + "\n"
    )
    d = Decontaminator(n=8)
    d.add_task("ntrex", "translation", aligned, tmp_path)
    d.add_task("gsm", "gsm8kx", tmp_path / "gsm", tmp_path)
    hit = d.find(
        "Blog: Der alte Leuchtturmwärter strich jedes Fenster des Turms in einer anderen Farbe."
    )
    assert hit is not None and hit.task == "ntrex" and hit.item == "de:1"
    assert d.find(f"Aufgabe: {question}?").task == "gsm"  # type: ignore[union-attr]
    assert d.find("a document about something else entirely, long enough to have n-grams") is None
