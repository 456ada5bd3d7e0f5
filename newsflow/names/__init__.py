"""Names check: find glossary names in the source, judge and fix their English spelling.

Public API (the pipeline calls these)::

    g = load_glossary(path)                          # Glossary, raises GlossaryError
    rep = check_names(g, lang, source, translation)  # NameReport
    rep.findings, rep.corrected, rep.candidates
    rep.to_json(id, with_candidates=False)           # the CLI's JSON line

Pure Python: no network, no Prefect.
"""

from newsflow.names.check import Finding, NameReport, check_names
from newsflow.names.entry import Entry
from newsflow.names.glossary import Glossary, load_glossary, parse_glossary

__all__ = [
    "Entry",
    "Finding",
    "Glossary",
    "NameReport",
    "check_names",
    "load_glossary",
    "parse_glossary",
]
