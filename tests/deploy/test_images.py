"""Each of the five images, built here on the local Debian base, started as it would be deployed:
read-only root filesystem, non-root user, a port published on 127.0.0.1, its HEALTHCHECK passing.

Where an image keeps data (/data, /mlflow) the tests give it an anonymous volume, as compose gives
a named one: podman fills a new volume from the image's folder, owner included, where a tmpfs
would be root's. ``podman rm -v`` removes it with the container.

The classifiers serve the pipeline fixture's model folders (mounted read-only, MODEL_URI naming
the folder), and the agent the policy fitted for them (ROUTING_POLICY naming the mounted file).
The agent's HEALTHCHECK is its readiness: a policy and at least one classifier that answers, which
is what the web interface's start in compose waits for. So its test runs it on a podman network
with the classifier containers as its backends, rather than checking mere liveness.
"""

from __future__ import annotations

import httpx
import pytest

from callcenterai.images import BASE_IMAGE, BUILDER_IMAGE, SERVICES, BuildOptions, build_arguments
from tests.deploy.containers import podman, podman_network, running_container, user_id, wait_healthy
from tests.helpers import API_KEY

CLASSIFIERS = {"tfidf_svc": ("tfidf", 8001), "transformer_svc": ("transformer", 8002)}
TICKET = "my laptop screen is broken and will not turn on"


def model_mount(folder, kind: str) -> list[str]:
    return ["-v", f"{folder / 'models' / kind}:/models/{kind}:ro", "-e", f"MODEL_URI=/models/{kind}"]


@pytest.fixture(scope="module")
def network(built_images):
    with podman_network() as name:
        yield name


@pytest.fixture(scope="module")
def classifiers(built_images, trained_project, network):
    """Both classifier containers, healthy, on the module's network: {service: (name, url)}."""
    folder, _ = trained_project
    with (
        running_container(
            built_images["tfidf_svc"], 8001, "--network", network, *model_mount(folder, "tfidf"), what="tfidf"
        ) as tfidf,
        running_container(
            built_images["transformer_svc"],
            8002,
            "--network",
            network,
            *model_mount(folder, "transformer"),
            what="transformer",
        ) as transformer,
    ):
        for name, _ in (tfidf, transformer):
            wait_healthy(name)
        yield {"tfidf_svc": tfidf, "transformer_svc": transformer}


@pytest.mark.parametrize("service", sorted(CLASSIFIERS))
def test_a_classifier_image_serves_a_mounted_model_read_only_as_non_root(service, classifiers):
    name, url = classifiers[service]
    assert user_id(name) not in ("", "0")
    answer = httpx.post(f"{url}/predict", json={"text": TICKET}, timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["model"]["kind"] == CLASSIFIERS[service][0]
    assert abs(sum(body["probabilities"].values()) - 1) < 1e-6


def test_the_agent_image_routes_through_the_classifier_containers(
    built_images, trained_project, network, classifiers
):
    folder, _ = trained_project
    # On the network each container is reached by its name.
    backends = {
        service: f"http://{classifiers[service][0]}:{port}" for service, (_, port) in CLASSIFIERS.items()
    }
    options = [
        "--network",
        network,
        "-v",
        "/data",
        "-v",
        f"{folder / 'models' / 'routing'}:/policy:ro",
        "-e",
        "ROUTING_POLICY=/policy/policy.json",
        "-e",
        f"TFIDF_URL={backends['tfidf_svc']}",
        "-e",
        f"TRANSFORMER_URL={backends['transformer_svc']}",
        "-e",
        f"CALLCENTERAI_API_KEY={API_KEY}",
    ]
    with running_container(built_images["agent"], 8000, *options, what="agent") as (name, url):
        wait_healthy(name)
        assert user_id(name) not in ("", "0")
        answer = httpx.post(f"{url}/predict", json={"text": TICKET}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.json()["route"]
        ready = httpx.get(f"{url}/ready", headers={"X-API-Key": API_KEY}, timeout=5).json()
        assert "warning" not in ready, ready  # the policy was fitted for the models the backends serve


def test_the_web_image_starts_read_only_with_its_review_store_on_a_volume(built_images):
    options = ["-v", "/data", "-e", "SESSION_SECRET=" + "s" * 40]
    with running_container(built_images["web_interface"], 8080, *options, what="web") as (name, url):
        wait_healthy(name)
        assert user_id(name) not in ("", "0")
        assert httpx.get(f"{url}/login", timeout=5).status_code == 200


def test_the_mlflow_image_hands_out_proxied_artifact_locations(built_images):
    with running_container(built_images["mlflow"], 5000, "-v", "/mlflow", what="mlflow") as (name, url):
        wait_healthy(name)
        assert user_id(name) not in ("", "0")
        api = f"{url}/api/2.0/mlflow/experiments"
        created = httpx.post(f"{api}/create", json={"name": "image-test"}, timeout=10)
        assert created.status_code == 200, created.text
        experiment = httpx.get(f"{api}/get", params=created.json(), timeout=10).json()["experiment"]
        assert experiment["artifact_location"].startswith("mlflow-artifacts:/")


@pytest.mark.parametrize("service", SERVICES)
def test_a_runtime_image_has_no_compiler_and_no_torch(service, built_images):
    probe = (
        "import importlib.util, shutil\n"
        "print([shutil.which(tool) for tool in ('gcc', 'cc')], importlib.util.find_spec('torch'))"
    )
    result = podman(
        "run", "--rm", "--read-only", "--entrypoint", "python", built_images[service], "-c", probe
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[None, None] None"


def test_a_cold_build_leaves_out_both_caches_and_a_public_one_keeps_the_dockerfiles_bases():
    cold = build_arguments("agent", BuildOptions(no_cache=True))
    assert "--no-cache" in cold and "PIP_COLD=1" in cold  # pip's cache mount is kept, but unused
    assert f"BASE_IMAGE={BASE_IMAGE}" in cold and f"BUILDER_IMAGE={BUILDER_IMAGE}" in cold
    assert cold[cold.index("--format") + 1] == "docker"  # an OCI image config would lose the HEALTHCHECK
    public = build_arguments("agent", BuildOptions(local_base=False))
    assert not any(argument.startswith(("BASE_IMAGE=", "BUILDER_IMAGE=", "PIP_COLD")) for argument in public)
    assert public[-1] == "." and "localhost/callcenterai/agent:dev" in public
