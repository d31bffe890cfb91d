"""deploy/: the compose file, the nginx configuration and the image they rely on.

Docker is not available where the tests run, so the files are checked as text: the compose
file with a small parser for the YAML it uses (block mappings and lists, flow lists of
strings, scalars; no anchors), nginx's configuration for sticky routing and WebSocket
upgrades, the Dockerfile for a non-root user.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
APPS = ("app1", "app2", "app3")


def _scalar(text: str):
    text = text.strip()
    if text.startswith("["):
        return json.loads(text)  # the flow lists used are JSON arrays of strings
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def parse_yaml_subset(text: str):
    """Block mappings and lists of scalars, as written in deploy/docker-compose.yml.

    Raises
    ------
    ValueError
        On anything else (tabs, anchors, a bad indentation), naming the line.
    """
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if "\t" in raw:
            raise ValueError(f"line {number}: tab")
        stripped = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if stripped.strip():
            if re.search(r"(^|\s)[&*]\w", stripped) or "<<:" in stripped:
                raise ValueError(f"line {number}: anchors and merge keys are not used here")
            lines.append((number, len(stripped) - len(stripped.lstrip()), stripped.strip()))

    def block(i: int, indent: int):
        number, level, content = lines[i]
        if level != indent:
            raise ValueError(f"line {number}: indentation {level}, expected {indent}")
        if content.startswith("- "):
            items = []
            while i < len(lines) and lines[i][1] == indent and lines[i][2].startswith("- "):
                items.append(_scalar(lines[i][2][2:]))
                i += 1
            return items, i
        mapping = {}
        while i < len(lines) and lines[i][1] == indent:
            number, _, content = lines[i]
            key, sep, rest = content.partition(":")
            if not sep or content.startswith("- "):
                raise ValueError(f"line {number}: expected 'key: value'")
            key = _scalar(key)
            if key in mapping:
                raise ValueError(f"line {number}: {key!r} twice")
            i += 1
            if rest.strip():
                mapping[key] = _scalar(rest)
            elif i < len(lines) and lines[i][1] > indent:
                mapping[key], i = block(i, lines[i][1])
            else:
                mapping[key] = None
        if i < len(lines) and lines[i][1] > indent:
            raise ValueError(f"line {lines[i][0]}: unexpected indentation")
        return mapping, i

    value, end = block(0, 0)
    if end != len(lines):
        raise ValueError(f"line {lines[end][0]}: unexpected indentation")
    return value


@pytest.fixture(scope="module")
def compose() -> dict:
    return parse_yaml_subset((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def test_the_parser_rejects_what_it_does_not_know():
    with pytest.raises(ValueError, match="line 3: unexpected indentation"):
        parse_yaml_subset("a:\n   b: 1\n  c: 2\n")
    with pytest.raises(ValueError, match="anchors"):
        parse_yaml_subset("x: &app\n  a: 1\n")
    assert parse_yaml_subset('a:\n  - "1"\n  - x\nb: ["c", "d"]\n') == {
        "a": ["1", "x"],
        "b": ["c", "d"],
    }


def test_compose_has_postgres_three_replicas_and_a_load_balancer(compose):
    services = compose["services"]
    assert set(services) == {"db", *APPS, "lb"}
    db = services["db"]
    assert db["image"].startswith("postgres:16")
    assert "igmeta-db:/var/lib/postgresql/data" in db["volumes"]
    assert "igmeta-db" in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${IGMETA_DB_PASSWORD:?")
    for name in APPS:
        app = services[name]
        assert app["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        url = app["environment"]["IGMETA_DB_URL"]
        assert url == "postgresql://igmeta:${IGMETA_DB_PASSWORD}@db:5432/igmeta"
        assert app["depends_on"]["db"]["condition"] == "service_healthy"
        assert "http://localhost:8501/_stcore/health" in app["healthcheck"]["test"]
    assert services["app2"] == services["app1"] == services["app3"]  # only names differ
    lb = services["lb"]
    assert lb["image"].startswith("nginx:")
    assert "./nginx.conf:/etc/nginx/conf.d/default.conf:ro" in lb["volumes"]
    assert {n: lb["depends_on"][n]["condition"] for n in APPS} == dict.fromkeys(
        APPS, "service_healthy"
    )
    assert lb["healthcheck"]["test"][-1].endswith("/lb-health")


def test_nginx_routes_sticky_with_websockets_to_every_replica():
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    upstream = re.search(r"upstream igmeta \{(.*?)\}", code, re.S).group(1)
    assert re.search(r"^\s*hash \$igmeta_route consistent;", upstream, re.M)
    assert re.findall(r"server (app\d):8501", upstream) == list(APPS)
    assert "map $cookie_igmeta_route $igmeta_route" in code
    assert 'Set-Cookie "igmeta_route=$igmeta_route;' in code
    assert "proxy_set_header Upgrade $http_upgrade;" in code
    assert "proxy_set_header Connection $connection_upgrade;" in code
    assert "proxy_http_version 1.1;" in code
    assert "location = /lb-health" in code


def test_the_image_runs_as_a_non_root_user_with_the_driver_installed():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^psycopg\[binary\]==", requirements, re.M)
    assert re.search(r"^psycopg_pool==", requirements, re.M)
