"""Deployments that `newsflow serve` serves: one `translate-news` deployment on
the config's schedule for every source without its own schedule, and one
`translate-news-<source>` deployment per source that has one.

Runs of one deployment never overlap (concurrency limit 1); runs of different
deployments may, and the store's claims keep them from processing the same
article twice.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prefect.schedules import Cron, Interval

from newsflow.config import Schedule, Settings
from newsflow.errors import ConfigError

DEPLOYMENT = "translate-news"


def prefect_schedule(schedule: Schedule):
    if schedule.cron:
        return Cron(schedule.cron, timezone=schedule.timezone)
    return Interval(timedelta(seconds=schedule.interval_seconds), timezone=schedule.timezone)


def build_deployments(flow, settings: Settings, config_path: Path) -> list:
    """RunnerDeployments for `flow` (translate_news, with its task runner set)."""
    config_path = Path(config_path).resolve()
    enabled = [s for s in settings.sources if s.enabled]
    own = [s for s in enabled if s.schedule is not None]
    shared = [s.name for s in enabled if s.schedule is None]
    if not own and settings.schedule is None:
        raise ConfigError(f"{config_path}: key 'schedule': nothing to serve: set a schedule "
                          "(cron or interval_seconds) at the top level or on a source")
    deployments = []
    if shared and settings.schedule is not None:
        deployments.append(flow.to_deployment(
            name=DEPLOYMENT,
            schedules=[prefect_schedule(settings.schedule)],
            parameters={"params": {"config_path": str(config_path), "sources": shared}},
            concurrency_limit=1,
            description=f"Translate sources {', '.join(shared)} on the config's schedule",
            tags=["newsflow"],
        ))
    for source in own:
        deployments.append(flow.to_deployment(
            name=f"{DEPLOYMENT}-{source.name}",
            schedules=[prefect_schedule(source.schedule)],
            parameters={"params": {"config_path": str(config_path), "sources": [source.name]}},
            concurrency_limit=1,
            description=f"Translate source {source.name} on its own schedule",
            tags=["newsflow", f"source:{source.name}"],
        ))
    return deployments
