#!/usr/bin/env python3
"""Checks docker-compose.yml without Docker: YAML syntax, the services and their wiring.

Used by .ci/run when `docker compose` is not installed. Needs PyYAML (.ci/run provides it).
Checks: services db and jobcenter exist; db reads its password from the db_password secret
and has a health check; jobcenter waits for a healthy db, reads the same secret, has a
health check on /health/ready, gives shutdown time to drain; every JOBCENTER__SECTION__KEY
variable names a key of config/default.toml; every secret is defined and its file exists.
"""
import os
import re
import sys

import yaml

try:
    import tomllib
except ImportError:  # Python < 3.11: default.toml is plain sections and `key = value` lines
    tomllib = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
errors = []


def check(ok, message):
    if not ok:
        errors.append(message)


def interpolate(value):
    """${NAME:-default} and ${NAME} as docker compose expands them."""
    def one(m):
        return os.environ.get(m.group(1)) or (m.group(3) or "")
    return re.sub(r"\$\{(\w+)(:-([^}]*))?\}", one, str(value))


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return env


def seconds(text):
    m = re.fullmatch(r"(\d+)s", str(text))
    return int(m.group(1)) if m else None


with open(os.path.join(ROOT, "docker-compose.yml")) as f:
    compose = yaml.safe_load(f)
def load_defaults(path):
    if tomllib:
        with open(path, "rb") as f:
            return tomllib.load(f)
    table, node = {}, None
    node = table
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                node = table
                for part in line.strip("[]").split("."):
                    node = node.setdefault(part, {})
            elif "=" in line and not line.startswith("#"):
                key, value = (x.strip() for x in line.split("=", 1))
                node[key] = int(value) if value.isdigit() else value
    return table


defaults = load_defaults(os.path.join(ROOT, "config", "default.toml"))

services = compose.get("services") or {}
db = services.get("db")
app = services.get("jobcenter")
check(db is not None, "service db is missing")
check(app is not None, "service jobcenter is missing")
secrets = compose.get("secrets") or {}
for name, secret in secrets.items():
    path = interpolate(secret.get("file", ""))
    check(os.path.isfile(os.path.join(ROOT, path)), f"secret {name}: file {path} not found")

if db:
    env = env_of(db)
    check("POSTGRES_PASSWORD" not in env, "db: use POSTGRES_PASSWORD_FILE, not POSTGRES_PASSWORD")
    check(env.get("POSTGRES_PASSWORD_FILE") == "/run/secrets/db_password",
          "db: POSTGRES_PASSWORD_FILE must be /run/secrets/db_password")
    check("db_password" in (db.get("secrets") or []), "db: needs the db_password secret")
    check((db.get("healthcheck") or {}).get("test"), "db: no health check")

if app:
    env = env_of(app)
    for key in ("JOBCENTER__DATABASE__URL", "JOBCENTER__DATABASE__PASSWORD_FILE",
                "JOBCENTER__AUTH__JWT_SECRET"):
        check(env.get(key), f"jobcenter: environment {key} is missing")
    check(":" not in str(env.get("JOBCENTER__DATABASE__URL", "")).split("@")[0][len("postgres://"):],
          "jobcenter: the database URL must not carry the password")
    check(env.get("JOBCENTER__DATABASE__PASSWORD_FILE") == "/run/secrets/db_password",
          "jobcenter: JOBCENTER__DATABASE__PASSWORD_FILE must be /run/secrets/db_password")
    check("db_password" in (app.get("secrets") or []), "jobcenter: needs the db_password secret")
    for key in env:
        parts = key.split("__")
        if parts[0] != "JOBCENTER":
            continue
        node = defaults
        for part in parts[1:]:
            node = node.get(part.lower()) if isinstance(node, dict) else None
        check(node is not None, f"jobcenter: {key} names no key of config/default.toml")
    depends = app.get("depends_on") or {}
    check(isinstance(depends, dict) and (depends.get("db") or {}).get("condition") == "service_healthy",
          "jobcenter: must depend on db with condition service_healthy")
    test = " ".join((app.get("healthcheck") or {}).get("test") or [])
    check("/health/ready" in test, "jobcenter: the health check must call /health/ready")
    drain = int(env.get("JOBCENTER__SERVER__SHUTDOWN_TIMEOUT_SECS")
                or defaults["server"]["shutdown_timeout_secs"])
    grace = seconds(app.get("stop_grace_period", "10s"))
    check(grace is not None and grace > drain,
          f"jobcenter: stop_grace_period must exceed the {drain}s drain")

if errors:
    for error in errors:
        print(f"docker-compose.yml: {error}", file=sys.stderr)
    sys.exit(1)
print("docker-compose.yml: ok")
