"""Work pools: prefect.yaml, the Docker and Kubernetes templates under deploy/,
checked as far as this machine allows (no Docker engine, no cluster), and the
process pool for real: the session's Prefect API, `prefect deploy` from
prefect.yaml, a worker that runs a triggered run to completion."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, write_config
from tests.support.prefect_server import server_env

DEPLOY = REPO / "deploy"
K8S_TEMPLATE = DEPLOY / "kubernetes" / "base-job-template.json"
DOCKER_TEMPLATE = DEPLOY / "docker" / "base-job-template.json"
POOL_TEMPLATES = {"newsflow-k8s": K8S_TEMPLATE, "newsflow-docker": DOCKER_TEMPLATE}


def prefect_yaml() -> dict:
    return yaml.safe_load((REPO / "prefect.yaml").read_text())


def deployments() -> dict[str, dict]:
    return {d["name"]: d for d in prefect_yaml()["deployments"]}


def template(path: Path) -> dict:
    return json.loads(path.read_text())


def render(base: dict, job_variables: dict) -> dict:
    """What a worker builds for a run: the variables' defaults, overridden by the
    deployment's job variables, put into the job configuration (Prefect's own
    templating, as BaseJobConfiguration.from_template_and_values does)."""
    from prefect.utilities.templating import apply_values

    values = {k: v["default"] for k, v in base["variables"]["properties"].items() if "default" in v}
    values.update(job_variables)
    return apply_values(base["job_configuration"], values)


# -- prefect.yaml ------------------------------------------------------------------


def test_prefect_yaml_deployments_load_their_flow_with_valid_parameters(monkeypatch):
    from prefect.flows import load_flow_from_entrypoint

    from flows.translate_news import RunParameters

    monkeypatch.chdir(REPO)  # entrypoints are relative to the project root
    monkeypatch.setenv("NEWSFLOW_CONFIG", str(REPO / "config.yaml"))
    found = deployments()
    assert found["translate-news"]["entrypoint"] == "flows/translate_news.py:translate_news"
    assert found["translate-news"]["work_pool"]["name"] == "newsflow-process"
    for name, dep in found.items():
        flow = load_flow_from_entrypoint(dep["entrypoint"], use_placeholder_flow=False)
        assert flow.name == "translate-news", name
        RunParameters(**dep["parameters"]["params"])  # the UI form would accept them
        assert set(dep["parameters"]) == {"params"}, name
        (schedule,) = dep["schedules"]
        assert schedule["interval"] == 600 and schedule["active"] is True, name
        for key, value in dep["work_pool"].get("job_variables", {}).get("env", {}).items():
            assert isinstance(value, str), f"{name}: env {key} must be a string"


def test_container_deployments_run_from_the_image_directory():
    workdir = re.search(r"^WORKDIR (\S+)$", (DEPLOY / "Dockerfile").read_text(), re.M).group(1)
    for name, dep in deployments().items():
        pull = dep.get("pull")
        if dep["work_pool"]["name"] == "newsflow-process":
            assert pull is None, "the process pool runs where `prefect deploy` ran"
            continue
        assert pull == [{"prefect.deployments.steps.set_working_directory": {"directory": workdir}}], name


@pytest.mark.parametrize("pool", sorted(POOL_TEMPLATES))
def test_job_variables_fit_the_pool_templates(pool):
    from prefect.utilities.schema_tools.validation import validate

    schema = template(POOL_TEMPLATES[pool])["variables"]
    used = [d for d in deployments().values() if d["work_pool"]["name"] == pool]
    assert len(used) == 2  # CPU and GPU
    for dep in used:
        job_variables = dep["work_pool"]["job_variables"]
        # the server validates values (as here) but accepts unknown keys: catch typos
        assert set(job_variables) <= set(schema["properties"]), dep["name"]
        validate(job_variables, schema, raise_on_error=True, ignore_required=True)


# -- templates -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [K8S_TEMPLATE, DOCKER_TEMPLATE], ids=["kubernetes", "docker"])
def test_template_placeholders_are_declared_variables(path):
    from prefect.utilities.schema_tools.validation import is_valid_schema
    from prefect.utilities.templating import find_placeholders

    base = template(path)
    assert set(base) == {"job_configuration", "variables"}
    is_valid_schema(base["variables"])
    names = {p.name for p in find_placeholders(base["job_configuration"])}
    assert names <= set(base["variables"]["properties"]), names - set(base["variables"]["properties"])


def test_kubernetes_template_renders_cpu_and_gpu_jobs():
    base = template(K8S_TEMPLATE)
    deps = deployments()

    def pod(name):
        config = render(base, deps[name]["work_pool"]["job_variables"])
        manifest = config["job_manifest"]
        assert manifest["apiVersion"] == "batch/v1" and manifest["kind"] == "Job"
        assert manifest["metadata"]["namespace"] == "newsflow"
        return manifest["spec"]["template"]["spec"]

    cpu = pod("translate-news-k8s")
    (container,) = cpu["containers"]
    assert container["image"].endswith("newsflow:latest")
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert container["resources"]["requests"] == {"cpu": "2", "memory": "4Gi"}
    assert "nodeSelector" not in cpu and "tolerations" not in cpu  # unset: left out, not null
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/config", "/models", "/output"}
    assert {v["name"]: v for v in cpu["volumes"]}["config"]["secret"]["secretName"] == "newsflow-config"

    gpu = pod("translate-news-k8s-gpu")
    (container,) = gpu["containers"]
    assert container["image"].endswith("newsflow:cuda")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert gpu["tolerations"][0]["key"] == "nvidia.com/gpu"
    env = deps["translate-news-k8s-gpu"]["work_pool"]["job_variables"]["env"]
    gpu_config = deps["translate-news-k8s-gpu"]["parameters"]["params"]["config_path"]
    assert env["NEWSFLOW_CONFIG"] == gpu_config == "/config/config-gpu.yaml"


def test_docker_gpu_deployment_requests_the_gpus():
    base = template(DOCKER_TEMPLATE)
    deps = deployments()
    cpu = render(base, deps["translate-news-docker"]["work_pool"]["job_variables"])
    gpu = render(base, deps["translate-news-docker-gpu"]["work_pool"]["job_variables"])
    assert "container_create_kwargs" not in cpu
    (request,) = gpu["container_create_kwargs"]["device_requests"]
    assert request == {"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}
    assert {v.split(":")[1] for v in gpu["volumes"]} == {"/config", "/models", "/output"}


def test_kubernetes_manifests_fit_the_template():
    docs = {}
    for name in ("newsflow.yaml", "dask.yaml"):
        for doc in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()):
            assert {"apiVersion", "kind", "metadata"} <= set(doc), name
            docs[(doc["kind"], doc["metadata"]["name"])] = doc
    defaults = {k: v.get("default") for k, v in template(K8S_TEMPLATE)["variables"]["properties"].items()}
    assert ("Namespace", defaults["namespace"]) in docs
    assert ("PersistentVolumeClaim", defaults["models_claim"]) in docs
    assert ("PersistentVolumeClaim", defaults["output_claim"]) in docs
    worker = docs[("Deployment", "prefect-worker")]["spec"]["template"]["spec"]["containers"][0]
    assert worker["args"][:5] == ["prefect", "worker", "start", "--pool", "newsflow-k8s"]
    dask = docs[("Deployment", "dask-worker")]["spec"]["template"]["spec"]["containers"][0]
    assert dask["args"][:2] == ["dask", "worker"] and "--nthreads" in dask["args"]
    assert any(e["name"] == "PREFECT_API_URL" for e in dask["env"])


def test_dockerfile_builds_the_locked_venv_from_files_that_exist():
    text = (DEPLOY / "Dockerfile").read_text()
    instructions = [line.split(None, 1) for line in text.replace("\\\n", " ").splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    for op, args in instructions:
        if op == "COPY" and not args.startswith("--from"):
            *sources, _ = args.split()
            for src in sources:
                assert (REPO / src).exists(), f"COPY {src}: not in the repository"
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "uv sync --locked --no-dev --extra scale" in runs
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert {"psycopg[binary]", "prefect-dask"} <= {re.split(r"[<>=]", d)[0] for d in extras["scale"]}
    assert "uv python install 3.11" in runs
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert "**/.venv" in ignored and ".git" in ignored


# -- the process pool against a real server ---------------------------------------------


def _cli(*args, env, cwd=REPO, timeout=240):
    return subprocess.run([sys.executable, "-m", "prefect", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.integration
@pytest.mark.server
def test_process_pool_runs_a_deployment_from_prefect_yaml(prefect_harness, tmp_path, installed_models_dir):
    """the session's Prefect API on loopback (a `prefect server` app in a subprocess:
    the same API, without the UI and the scheduler, which a worker needs neither of)
    -> pools from deploy/ -> `prefect deploy --all` from prefect.yaml -> a run of
    translate-news -> `prefect worker start --run-once` runs it -> Completed,
    articles stored."""
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName
    from prefect.settings import PREFECT_API_URL

    # No scheduler runs in the test API (prefect.yaml's schedules make no runs): the
    # worker must run exactly the run triggered here.
    api = PREFECT_API_URL.value()
    # One German feed: the run loads a model and translates (13 articles); the whole
    # sample set would only make the run longer.
    feed = REPO / "samples" / "feeds" / "de-nachrichten.xml"
    cfg = write_config(tmp_path, installed_models_dir,
                       sources=f"\n  - {{name: de-nachrichten, kind: feed, lang: de, url: {feed}}}\n")
    pools = ["newsflow-process", *POOL_TEMPLATES]
    env = {**server_env(tmp_path / "prefect-home", api), "PYTHONPATH": str(REPO),
           "NEWSFLOW_CONFIG": str(REPO / "config.yaml"), "PREFECT_LOGGING_LEVEL": "WARNING"}

    async def create_pools():
        async with PrefectClient(api) as client:
            await client.create_work_pool(WorkPoolCreate(name="newsflow-process", type="process"))
            for name, path in POOL_TEMPLATES.items():
                await client.create_work_pool(WorkPoolCreate(
                    name=name, type=name.split("-")[1].replace("k8s", "kubernetes"),
                    base_job_template=template(path)))

    asyncio.run(create_pools())
    # every deployment: the server checks job variables against the pool templates
    deployed = _cli("--no-prompt", "deploy", "--all", env=env)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]

    async def trigger():
        async with PrefectClient(api) as client:
            found = await client.read_deployment_by_name("translate-news/translate-news")
            assert found.work_pool_name == "newsflow-process"
            assert found.pull_steps == [{"prefect.deployments.steps.set_working_directory": {
                "directory": str(REPO)}}]
            # the session's API is shared: what is in this test's pools is what it deployed
            names = {d.name for d in await client.read_deployments(
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=pools)))}
            assert names == set(deployments())
            run = await client.create_flow_run_from_deployment(
                found.id, parameters={"params": {"config_path": str(cfg)}})
            return run.id

    run_id = asyncio.run(trigger())
    worker = _cli("worker", "start", "--pool", "newsflow-process", "--run-once", env=env)
    assert worker.returncode == 0, worker.stdout[-3000:] + worker.stderr[-3000:]

    async def final_state():
        async with PrefectClient(api) as client:
            return (await client.read_flow_run(run_id)).state

    state = asyncio.run(final_state())
    assert state.is_completed(), f"{state.type}: {state.message}\n{worker.stderr[-3000:]}"
    import sqlite3

    con = sqlite3.connect(tmp_path / "data" / "newsflow.db")
    assert dict(con.execute("SELECT status, COUNT(*) FROM articles GROUP BY status"))["translated"] > 0
    con.close()
