"""The body of one claiming process of tests/test_postgres.py, in a module of its own: a
``spawn`` child imports the module of its target, and this one imports only the store
(not pytest, the conftest and the test module's fixtures: ~0.5 CPU-seconds per child)."""

from __future__ import annotations


def claim_in_process(url: str, run_id: str, ids: list[str], start, out) -> None:
    from newsflow.store.postgres import PostgresStore

    with PostgresStore(url) as store:
        start.wait()
        owned = set()
        for chunk in range(0, len(ids), 25):  # several transactions, interleaving with others
            owned |= store.claim(ids[chunk:chunk + 25], run_id)
        out.put((run_id, sorted(owned)))
