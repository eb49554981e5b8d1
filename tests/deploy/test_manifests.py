"""The Kubernetes manifests (deploy/kubernetes) as ``kubectl kustomize`` renders each
overlay: valid against the Kubernetes schemas, and holding what running Drafter safely
needs: probes, non-root containers with read-only root filesystems, resources, headless
Services behind the dns:/// targets, autoscalers and disruption budgets in production,
the migration Job, NetworkPolicies with exactly the paths Drafter uses, and no secret
value anywhere but in Secrets created outside the manifests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.reachability import Endpoint, reachable

pytestmark = pytest.mark.slow  # runs kubectl

OVERLAYS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "overlays"
NAMESPACE = "drafter"
# The oldest release with the kubelet's grpc probes (GA in 1.27), and the newest the
# schemas cover.
KUBERNETES_VERSIONS = ("1.27.0", "1.37.0")
GRPC_PORTS = {"accounts": 50051, "chat": 50052, "images": 50053}
DRAFTER = ("edge", *GRPC_PORTS)
SECRET_NAMED = re.compile(r"TOKEN|KEY|PASSWORD|SECRET|DATABASE_URL|REDIS_URL")

Doc = dict[str, Any]


def render(overlay: str) -> list[Doc]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        # scripts/test.sh refuses to run on CI without it
        assert not os.environ.get("CI"), "kubectl (with kustomize) is required on CI"
        pytest.skip("kubectl (with kustomize) is needed to render the manifests")
    out = subprocess.run(
        [kubectl, "kustomize", str(OVERLAYS / overlay)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module", params=["dev", "production"])
def overlay(request: pytest.FixtureRequest) -> tuple[str, list[Doc]]:
    return request.param, render(request.param)


def of_kind(docs: list[Doc], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def workloads(docs: list[Doc]) -> Iterator[tuple[str, Doc]]:
    """(name, pod template) of every Deployment and Job."""
    for kind in ("Deployment", "Job"):
        for name, doc in of_kind(docs, kind).items():
            yield name, doc["spec"]["template"]


def containers(pod: Doc) -> list[Doc]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def main_container(docs: list[Doc], name: str) -> Doc:
    container: Doc = of_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
    return container


def config(docs: list[Doc]) -> dict[str, str]:
    (config_map,) = [d for d in docs if d["metadata"]["name"].startswith("drafter-config")]
    data: dict[str, str] = config_map["data"]
    return data


def test_every_resource_validates_against_the_kubernetes_schemas(
    overlay: tuple[str, list[Doc]],
) -> None:
    _, docs = overlay
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            kubernetes_validate.validate(doc, version, strict=True)


def test_every_container_runs_unprivileged_on_a_read_only_root(
    overlay: tuple[str, list[Doc]],
) -> None:
    _, docs = overlay
    for name, pod in workloads(docs):
        pod_security = pod["spec"].get("securityContext", {})
        assert pod_security.get("runAsNonRoot") is True, name
        assert pod_security.get("runAsUser", 0) != 0, name
        assert pod["spec"].get("automountServiceAccountToken") is False, name
        for container in containers(pod):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert security["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert security["capabilities"]["drop"] == ["ALL"], (name, container["name"])
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert set(resources[bound]) >= {"cpu", "memory"}, (name, container["name"])


def test_drafter_writes_only_to_its_own_volumes(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    for name in DRAFTER:
        pod = of_kind(docs, "Deployment")[name]["spec"]["template"]
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in main_container(docs, name)["volumeMounts"]}
        assert config(docs)["DRAFTER_DATA_DIR"] in mounts and "/tmp" in mounts, name
        for volume in mounts.values():
            assert set(volumes[volume]) & {"emptyDir", "persistentVolumeClaim"}, (name, volume)


def test_the_edge_is_probed_on_healthz_and_the_services_on_grpc_health(
    overlay: tuple[str, list[Doc]],
) -> None:
    _, docs = overlay
    edge = main_container(docs, "edge")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert edge[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {"name": "http", "containerPort": 8080} in edge["ports"]
    for name, port in GRPC_PORTS.items():
        container = main_container(docs, name)
        assert container["command"][:3] == ["drafter", "serve", name]
        assert container["command"][-1] == str(port)
        assert {"name": "grpc", "containerPort": port} in container["ports"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"] == {"port": port}, (name, probe)


def test_services_are_headless_behind_the_dns_targets_the_clients_dial(
    overlay: tuple[str, list[Doc]],
) -> None:
    _, docs = overlay
    services = of_kind(docs, "Service")
    for name, port in GRPC_PORTS.items():
        spec = services[name]["spec"]
        assert spec["clusterIP"] == "None"
        assert spec["selector"]["app.kubernetes.io/component"] == name
        assert [(p["port"], p["targetPort"]) for p in spec["ports"]] == [(port, "grpc")]
        assert config(docs)[f"DRAFTER_{name.upper()}_ADDR"] == f"dns:///{name}:{port}"


def test_no_secret_value_is_written_in_the_manifests(overlay: tuple[str, list[Doc]]) -> None:
    _, docs = overlay
    assert not of_kind(docs, "Secret")
    for key, value in config(docs).items():
        assert not re.search(r"://[^/@]*:[^/@]*@", value), key  # no password in a URL
        if SECRET_NAMED.search(key):
            assert key in ("DATABASE_URL", "REDIS_URL"), key
    for name, pod in workloads(docs):
        for container in containers(pod):
            for env in container.get("env", []):
                if SECRET_NAMED.search(env["name"]):
                    assert "value" not in env, (name, env["name"])
                    assert env["valueFrom"]["secretKeyRef"]["name"].startswith("drafter-")
    # Each process that signs or checks reservations, or calls another, gets the shared
    # secrets (replicas that generated their own would refuse each other's).
    secret_keys = {
        name: {
            e["valueFrom"]["secretKeyRef"]["key"]
            for e in main_container(docs, name).get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        for name in DRAFTER
    }
    assert all("internal-token" in keys for keys in secret_keys.values())
    assert {"reservation-key"} <= secret_keys["accounts"] & secret_keys["chat"]
    assert "secret-key" in secret_keys["edge"]


def test_dev_runs_one_of_everything_with_its_own_postgres_and_redis() -> None:
    docs = render("dev")
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == {*DRAFTER, "postgres", "redis"}
    assert all(d["spec"]["replicas"] == 1 for d in deployments.values())
    assert not of_kind(docs, "HorizontalPodAutoscaler")
    assert config(docs)["DATABASE_URL"] == "postgresql://drafter@postgres:5432/drafter"


def test_production_scales_out_with_autoscalers_and_disruption_budgets() -> None:
    docs = render("production")
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == set(DRAFTER)
    autoscalers = of_kind(docs, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"edge", "chat"}
    for name, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert hpa["spec"]["minReplicas"] >= 2
        assert "replicas" not in deployments[name]["spec"]  # the autoscaler's to set
        assert main_container(docs, name)["resources"]["requests"]["cpu"]  # HPA needs it
    for name in ("accounts", "images"):
        assert deployments[name]["spec"]["replicas"] >= 2
    budgets = of_kind(docs, "PodDisruptionBudget")
    for name in DRAFTER:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        selector = budgets[name]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items()
        assert budgets[name]["spec"]["maxUnavailable"] == 1
    images = deployments["images"]["spec"]["template"]["spec"]["volumes"]
    (data,) = [v for v in images if v["name"] == "data"]
    claim = of_kind(docs, "PersistentVolumeClaim")[data["persistentVolumeClaim"]["claimName"]]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_production_migrates_in_a_job_with_the_database_from_a_secret() -> None:
    docs = render("production")
    (job,) = of_kind(docs, "Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["drafter", "admin", "db", "migrate"]
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "drafter-database",
        "key": "url",
    }
    accounts = {e["name"]: e for e in main_container(docs, "accounts")["env"]}
    assert accounts["DATABASE_URL"]["valueFrom"] == env["DATABASE_URL"]["valueFrom"]
    assert "DATABASE_URL" not in config(docs)


def _endpoints(docs: list[Doc]) -> dict[str, Endpoint]:
    namespace = of_kind(docs, "Namespace")[NAMESPACE]["metadata"]["labels"]
    pods = {
        name: Endpoint(
            name,
            NAMESPACE,
            pod["metadata"]["labels"],
            {**namespace, "kubernetes.io/metadata.name": NAMESPACE},
        )
        for name, pod in workloads(docs)
    }
    pods["drafter-migrate"] = pods.get("drafter-migrate", Endpoint("none", "nowhere"))
    return {
        **pods,
        "kube-dns": Endpoint(
            "kube-dns",
            "kube-system",
            {"k8s-app": "kube-dns"},
            {"kubernetes.io/metadata.name": "kube-system"},
        ),
        "other-namespace": Endpoint(
            "other", "default", {"app.kubernetes.io/component": "edge"}, {}
        ),
        "outside": Endpoint("outside", None),
    }


def test_network_policies_open_exactly_the_paths_drafter_uses(
    overlay: tuple[str, list[Doc]],
) -> None:
    name, docs = overlay
    policies = list(of_kind(docs, "NetworkPolicy").values())
    ends = _endpoints(docs)
    sources = [e for e in ends.values() if e.name != "none"]

    def reaching(destination: Endpoint, port: int) -> set[str]:
        return {s.name for s in sources if reachable(policies, s, destination, port)}

    in_cluster = {"kube-dns", "other"}
    # Only the edge calls the services; the accounts service's status prober also runs
    # health checks on chat and images.
    assert reaching(ends["accounts"], 50051) - in_cluster == {"edge"}
    for service in ("chat", "images"):
        assert reaching(ends[service], GRPC_PORTS[service]) - in_cluster == {"edge", "accounts"}
    # The edge is the one way in, on its HTTP port only.
    assert reaching(ends["edge"], 8080) >= {"outside", "other"}
    assert not reaching(ends["edge"], 9090) - in_cluster
    for service in GRPC_PORTS:
        assert "outside" not in reaching(ends[service], GRPC_PORTS[service])
        assert "other" not in reaching(ends[service], GRPC_PORTS[service])
    # Every pod resolves names.
    for source in sources:
        if source.namespace == NAMESPACE:
            assert reachable(policies, source, ends["kube-dns"], 53, "UDP"), source.name
            assert reachable(policies, source, ends["kube-dns"], 53, "TCP"), source.name
    if name == "dev":
        assert reaching(ends["postgres"], 5432) - in_cluster == {"accounts"}
        assert reaching(ends["redis"], 6379) - in_cluster == {"edge", "accounts", "chat"}
    else:
        # Outside the cluster, PostgreSQL and Redis are reached by port.
        database = {s.name for s in sources if reachable(policies, s, ends["outside"], 5432)}
        assert database - in_cluster - {"outside"} == {"accounts", "drafter-migrate"}
        redis = {s.name for s in sources if reachable(policies, s, ends["outside"], 6379)}
        assert redis - in_cluster - {"outside"} == {"edge", "accounts", "chat"}
    # The upstream APIs: chat and images only.
    upstream = {s.name for s in sources if reachable(policies, s, ends["outside"], 443)}
    assert upstream - in_cluster - {"outside"} == {"chat", "images"}
