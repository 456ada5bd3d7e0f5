"""A glossary edit between two runs (the run core as the flow wires it, in this process: the
re-check is run.finish's, nothing of it is Prefect wiring): the next run re-checks the stored
articles' names from their stored model output and rewrites their files, with no model call;
the run after that re-checks nothing."""

from __future__ import annotations

import json

from tests.reliability import harness
from tests.support.run_core import run_core
from tests.test_recheck import LAVROV, WANG_YI


def model_calls() -> int:
    """translate_batch calls of every engine loaded in this process so far."""
    from translators import engine

    return sum(e.model_calls for e in list(engine._engines.values()))


def article_files(output) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (output / "articles").rglob("*.json")}


def test_a_glossary_edit_rechecks_stored_articles_without_translating(tmp_path,
                                                                      installed_models_dir, capsys):
    from newsflow.cli import _print_summary

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for i, text in enumerate(["Lawrow traf Wang Yi in Peking. Die Gespräche dauerten drei Stunden.",
                              "Der Außenminister Lawrow sprach am Montag über den Handel."]):
        (inbox / f"de-{i}.txt").write_text(f"Lawrow in Peking {i}\n\n{text}\n", encoding="utf-8")
    glossary = tmp_path / "glossary.yaml"
    glossary.write_text(WANG_YI, encoding="utf-8")
    cfg = harness.write_inbox_config(tmp_path, installed_models_dir, inbox)
    cfg.write_text(cfg.read_text().replace(f"glossary: {harness.REPO / 'glossary.yaml'}",
                                           f"glossary: {glossary}"))
    assert f"glossary: {glossary}" in cfg.read_text()
    db = tmp_path / "data" / "newsflow.db"

    first = run_core(cfg)
    assert first["state"] == "completed", first
    before = harness.db_rows(db)
    assert len(before) == 2 and {r["status"] for r in before.values()} == {"translated"}
    assert all("lavrov" not in r["name_findings"] for r in before.values())
    assert first["rechecked"] == []

    glossary.write_text(WANG_YI + LAVROV, encoding="utf-8")  # the edit: a new entity
    calls = model_calls()
    second = run_core(cfg)
    assert second["state"] == "completed", second
    assert model_calls() == calls  # nothing was translated
    after = harness.db_rows(db)
    assert sorted(r["id"] for r in second["rechecked"]) == sorted(before)
    capsys.readouterr()
    _print_summary(second)  # what `newsflow run` prints
    assert "2 stored articles re-checked against the edited glossary" in capsys.readouterr().out
    for article_id, row in after.items():
        old = before[article_id]
        entities = {f["entity"] for f in json.loads(row["name_findings"])}
        assert "lavrov" in entities, row["name_findings"]  # the new entity was checked
        assert row["raw_translation"] == old["raw_translation"]  # the model's output as it was
        # the tiny model's output has no Lavrov to fix: the English stays as it was
        assert (row["title_en"], row["translation"]) == (old["title_en"], old["translation"])
        assert (row["model_version"], row["attempts"]) == (old["model_version"], old["attempts"])
        assert row["glossary_digest"] != old["glossary_digest"]
    files = article_files(tmp_path / "output")
    assert len(files) == 2
    for data in files.values():  # the files carry the new findings
        assert "lavrov" in {f["entity"] for f in data["name_findings"]}

    third = run_core(cfg)  # the same glossary: nothing to re-check
    assert third["state"] == "completed", third
    assert third["rechecked"] == [] and third["written"] == 0
    assert harness.db_rows(db) == after
