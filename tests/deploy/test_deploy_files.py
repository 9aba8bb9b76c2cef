"""The deployment files say what they must: images, probes, resources, and no secret inline."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|BROKER_URL|_KEY$")


def k8s_documents():
    return [doc for path in K8S for doc in yaml.safe_load_all(path.read_text()) if doc]


def workloads():
    for doc in k8s_documents():
        if doc["kind"] in ("Deployment", "Job"):
            yield doc, doc["spec"]["template"]["spec"]


def containers():
    for doc, pod in workloads():
        for container in pod["containers"]:
            yield doc, pod, container


def test_manifests_cover_web_worker_migrations_config():
    kinds = {(d["kind"], d["metadata"]["name"]) for d in k8s_documents()}
    for expected in [
        ("Deployment", "moderation-web"),
        ("Service", "moderation-web"),
        ("Ingress", "moderation-web"),
        ("HorizontalPodAutoscaler", "moderation-web"),
        ("Deployment", "moderation-worker-gpu"),
        ("Deployment", "moderation-worker-default"),
        ("Deployment", "moderation-beat"),
        ("Job", "moderation-migrate"),
        ("ConfigMap", "moderation-config"),
    ]:
        assert expected in kinds


def test_every_container_has_a_pinned_image_and_resources():
    for doc, _, container in containers():
        image = container["image"]
        assert ":" in image, doc["metadata"]["name"]
        assert not image.endswith(":latest"), doc["metadata"]["name"]
        assert {"requests", "limits"} <= set(container["resources"]), doc["metadata"]["name"]


def test_long_running_containers_have_liveness_and_readiness_probes():
    for doc, _, container in containers():
        if doc["kind"] == "Deployment":
            assert "livenessProbe" in container, doc["metadata"]["name"]
            assert "readinessProbe" in container, doc["metadata"]["name"]


def test_web_probes_use_the_health_endpoints():
    web = next(c for d, _, c in containers() if d["metadata"]["name"] == "moderation-web")
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_gpu_worker_requests_a_gpu_on_gpu_nodes():
    doc, pod, container = next(
        x for x in containers() if x[0]["metadata"]["name"] == "moderation-worker-gpu"
    )
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert pod["nodeSelector"]
    assert any(t["key"] == "nvidia.com/gpu" for t in pod["tolerations"])
    assert "-Q" in container["command"]
    assert "gpu" in container["command"]


def test_exactly_one_beat_sends_the_periodic_tasks():
    doc, pod, container = next(
        x for x in containers() if x[0]["metadata"]["name"] == "moderation-beat"
    )
    assert doc["spec"]["replicas"] == 1
    assert doc["spec"]["strategy"]["type"] == "Recreate"
    assert container["command"][:4] == ["celery", "-A", "config", "beat"]
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["exec"]["command"][-2:] == ["kernel.probe", "beat"]
    beat = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["beat"]
    assert beat["command"][:4] == ["celery", "-A", "config", "beat"]
    assert "deploy" not in beat  # one replica


def test_the_default_queue_has_a_worker_for_the_periodic_tasks():
    commands = [c["command"] for _, _, c in containers() if "worker" in c.get("command", [])]
    assert any("default" in c[c.index("-Q") + 1].split(",") for c in commands)
    worker = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]
    assert "default" in worker["command"][worker["command"].index("-Q") + 1].split(",")


def test_pods_run_as_non_root():
    for doc, pod in workloads():
        assert pod["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]


def test_no_secret_value_is_written_in_a_manifest():
    for doc in k8s_documents():
        assert doc["kind"] != "Secret", "secrets are created out of band, never committed"
        if doc["kind"] == "ConfigMap":
            assert not [k for k in doc["data"] if SECRET_NAME.search(k)]
    for _, _, container in containers():
        for entry in container.get("env", []):
            if SECRET_NAME.search(entry["name"]):
                assert "valueFrom" in entry, entry["name"]


def test_compose_stack_takes_secrets_from_the_environment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert {"db", "redis", "migrate", "web", "worker", "beat"} <= set(compose["services"])
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${DJANGO_SECRET_KEY:?" in text
    assert "${POSTGRES_PASSWORD:?" in text
    web = compose["services"]["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", ["Dockerfile.web", "Dockerfile.worker"])
def test_dockerfiles_are_multi_stage_non_root_without_secrets(name):
    text = (ROOT / "deploy" / name).read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users
    assert users[-1] not in ("root", "0")
    for line in re.findall(r"^ENV .*", text, re.M):
        assert not SECRET_NAME.search(line.split("=")[0]), line
    assert re.search(r"^CMD \[", text, re.M)


def test_worker_image_has_a_cuda_base():
    assert re.search(r"^FROM nvidia/cuda:", (ROOT / "deploy/Dockerfile.worker").read_text(), re.M)


def test_gunicorn_config_loads():
    namespace: dict = {}
    exec((ROOT / "deploy/gunicorn.conf.py").read_text(), namespace)  # noqa: S102  our own file
    assert namespace["worker_class"] == "gthread"
    assert namespace["accesslog"] == "-"


def test_gunicorn_workers_freeze_their_start_up_objects():
    import gc

    namespace: dict = {}
    exec((ROOT / "deploy/gunicorn.conf.py").read_text(), namespace)  # noqa: S102  our own file
    try:
        namespace["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
