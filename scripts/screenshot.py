"""Take a headless Chromium screenshot of a flow run's page in the Prefect UI.

    python scripts/screenshot.py --api http://127.0.0.1:4200/api --out run.png [--flow-run ID]
    python scripts/screenshot.py --api http://127.0.0.1:4200/api --out summary.png --artifact newsflow-run-summary

Without --flow-run it picks the latest `translate-news` run. Needs Debian's
`chromium` (apt-get install chromium). Chromium runs with a fresh profile and
no background networking, so it only talks to the Prefect server.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--hide-scrollbars",
]


async def latest_run_id(api: str) -> str:
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async with PrefectClient(api) as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["translate-news"])),
            sort=FlowRunSort.START_TIME_DESC, limit=1)
    if not runs:
        raise SystemExit(f"error: no translate-news flow run found at {api}")
    return str(runs[0].id)


def screenshot(url: str, out: Path, width: int = 1600, height: int = 1400, wait_ms: int = 20000) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("error: chromium not found (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="newsflow-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--virtual-time-budget={wait_ms}", f"--screenshot={out.resolve()}", url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"error: chromium failed ({done.returncode}): {done.stderr.strip()[-500:]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", required=True, help="Prefect API URL, e.g. http://127.0.0.1:4200/api")
    parser.add_argument("--flow-run", help="flow run id (default: the latest translate-news run)")
    parser.add_argument("--artifact", help="screenshot this artifact key's page instead of a run page")
    parser.add_argument("--out", type=Path, default=Path("run.png"))
    args = parser.parse_args(argv)
    ui = args.api.rstrip("/").removesuffix("/api")
    if args.artifact:
        url = f"{ui}/artifacts/key/{args.artifact}"
    else:
        url = f"{ui}/runs/flow-run/{args.flow_run or asyncio.run(latest_run_id(args.api))}"
    screenshot(url, args.out)
    print(f"{args.out} <- {url}")


if __name__ == "__main__":
    sys.exit(main())
