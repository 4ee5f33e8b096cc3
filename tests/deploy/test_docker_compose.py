"""The production-like Docker Compose deployment, checked by reading its files (no Docker, no database).

These tests pin what an operator relies on: which services exist, how they reach each other, what must be
supplied in ``.env``, what is published to the network and how nginx terminates TLS in front of uvicorn.
They parse ``docker-compose.yml`` with PyYAML and apply Compose's variable interpolation themselves, so they
run anywhere the test suite runs. This module must not import Django.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
NGINX_TEMPLATE = ROOT / "docker" / "nginx" / "akagi.conf.template"
GEN_CERT = ROOT / "docker" / "nginx" / "gen-cert.sh"
ENV_EXAMPLE = ROOT / ".env.example"
LLM_CONFIG = ROOT / "llm" / "config.py"

APP_SERVICES = ("migrate", "web", "worker", "beat")
ALL_SERVICES = {"db", "redis", "migrate", "web", "worker", "beat", "certs", "nginx"}
LONG_RUNNING = ("db", "redis", "web", "worker", "beat", "nginx")
ONE_SHOT = ("migrate", "certs")

# A complete, valid .env for rendering the file the way `docker compose` would.
OPERATOR_ENV = {
    "SECRET_KEY": "k" * 50,
    "POSTGRES_DB": "akagi_prod",
    "POSTGRES_USER": "akagi_app",
    "POSTGRES_PASSWORD": "0123456789abcdef",
    "AKAGI_BASE_DOMAIN": "ai.pref-example.lg.jp",
    "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com/",
    "AZURE_OPENAI_API_KEY": "placeholder",
    "AZURE_OPENAI_API_VERSION": "2024-10-21",
}


@pytest.fixture(autouse=True)
def _reset_schema_and_cache():
    """Overrides the suite-wide autouse fixture of the same name (tests/conftest.py), which clears the Django
    cache: these tests read files only and also run without Django (``-p no:django``)."""
    yield


# --------------------------------------------------------------------------- Compose interpolation


class MissingRequiredVariable(Exception):
    """What `docker compose` refuses to start with: a ``${VAR:?message}`` whose VAR is unset or empty."""


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's substitution rules for ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-d}``, ``${VAR-d}``,
    ``${VAR:?e}``, ``${VAR?e}``, ``${VAR:+a}`` and ``${VAR+a}``."""

    def replace(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"]
        is_set = name in env
        is_nonempty = bool(env.get(name))
        if op is None:
            return env.get(name, "")
        if op in (":-", "-"):
            use_default = not is_nonempty if op == ":-" else not is_set
            return arg if use_default else env[name]
        if op in (":?", "?"):
            missing = not is_nonempty if op == ":?" else not is_set
            if missing:
                raise MissingRequiredVariable(f"{name}: {arg}")
            return env[name]
        present = is_nonempty if op == ":+" else is_set
        return arg if present else ""

    rendered = _VARIABLE.sub(replace, value)
    leftover = value.replace("$$", "")
    assert len(_VARIABLE.findall(leftover)) == leftover.count("$"), f"unsupported `$` syntax in {value!r}"
    return rendered


def variables_in(value: str) -> set[str]:
    return {m["braced"] or m["bare"] for m in _VARIABLE.finditer(value) if not m["escaped"]}


def strings_in(node) -> list[str]:
    """Every scalar value in the parsed file (Compose interpolates values, not keys)."""
    if isinstance(node, dict):
        return [s for child in node.values() for s in strings_in(child)]
    if isinstance(node, list):
        return [s for child in node for s in strings_in(child)]
    return [node] if isinstance(node, str) else []


# --------------------------------------------------------------------------- loading


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def environment(service: dict, env: dict[str, str]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: interpolate(str(value), env) for key, value in raw.items()}


def command(service: dict) -> list[str]:
    cmd = service.get("command") or []
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def published_ports(service: dict) -> set[int]:
    """The container ports a service publishes on the host, from short ("80:80") or long syntax."""
    ports = set()
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ports.add(int(port["target"]))
        else:
            ports.add(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def volume_mounts(service: dict) -> dict[str, str]:
    """target -> source for every volume of a service (short syntax)."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume["source"]
        else:
            parts = volume.split(":")
            mounts[parts[1]] = parts[0]
    return mounts


# --------------------------------------------------------------------------- nginx configuration


def parse_nginx(text: str) -> list:
    """nginx configuration as nested [name, args, children-or-None] lists."""
    text = re.sub(r"#[^\n]*", "", text)
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'|[{};]|[^\s{};]+', text)
    stack: list[list] = [[]]
    current: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append([current[0], current[1:], None])
            current = []
        elif token == "{":
            block = [current[0], current[1:], []]
            stack[-1].append(block)
            stack.append(block[2])
            current = []
        elif token == "}":
            assert not current, f"directive without ';' before '}}': {current}"
            stack.pop()
        else:
            current.append(token.strip("\"'") if token[0] in "\"'" else token)
    assert len(stack) == 1 and not current, "unbalanced braces in the nginx template"
    return stack[0]


def directives(block: list, name: str) -> list[list[str]]:
    return [args for directive, args, _children in block if directive == name]


def directive(block: list, name: str) -> list[str]:
    found = directives(block, name)
    assert len(found) == 1, f"expected one `{name}`, found {found}"
    return found[0]


def children(block: list, name: str) -> list[tuple[list[str], list]]:
    return [(args, body) for directive, args, body in block if directive == name and body is not None]


@pytest.fixture(scope="module")
def nginx_conf(services) -> list:
    """The template as the nginx container renders it: only variables defined in its environment."""
    env = environment(services["nginx"], OPERATOR_ENV)
    text = NGINX_TEMPLATE.read_text(encoding="utf-8")
    for name, value in env.items():
        text = text.replace("${" + name + "}", value)
    return parse_nginx(text)


def server_listening_on(conf: list, port: int) -> list:
    matches = [body for args, body in children(conf, "server")
               if any(listen[0].rsplit(":", 1)[-1] == str(port) for listen in directives(body, "listen"))]
    assert len(matches) == 1, f"expected one server block listening on {port}"
    return matches[0]


def root_location(server: list) -> list:
    locations = {tuple(args): body for args, body in children(server, "location")}
    assert ("/",) in locations, "the server should handle every path with `location /`"
    return locations[("/",)]


def seconds(value: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    match = re.fullmatch(r"(\d+)([smh]?)", value)
    assert match, value
    return int(match[1]) * units.get(match[2] or "s", 1)


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(rest.split())))
    return instructions


# =========================================================================== tests: services


def test_every_service_of_the_deployment_is_defined(services):
    assert set(services) == ALL_SERVICES


def test_database_is_postgresql_18_with_pgvector_and_redis_is_7(services):
    assert services["db"]["image"] == "pgvector/pgvector:pg18"
    assert services["redis"]["image"] == "redis:7-alpine"
    assert services["nginx"]["image"] == "nginx:1.27-alpine"


def test_app_services_run_one_image_built_from_the_project_dockerfile(services):
    builds = {name: services[name].get("build") for name in APP_SERVICES}
    assert all(build == builds["web"] for build in builds.values()), builds
    assert builds["web"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
    assert (ROOT / builds["web"]["context"] / builds["web"]["dockerfile"]).is_file()


def test_app_services_share_one_database_and_one_redis_reached_by_service_name(services):
    envs = {name: environment(services[name], OPERATOR_ENV) for name in APP_SERVICES}
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "AKAGI_BASE_DOMAIN"):
        values = {name: env[key] for name, env in envs.items()}
        assert len(set(values.values())) == 1, f"{key} differs between services: {values}"

    database = urlsplit(envs["web"]["DATABASE_URL"])
    assert database.scheme in ("postgres", "postgresql")
    assert (database.hostname, database.port) == ("db", 5432)
    redis = urlsplit(envs["web"]["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)


def test_app_connects_with_the_credentials_the_database_was_created_with(services):
    for env in (OPERATOR_ENV, {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"}):  # set and left to defaults
        db = environment(services["db"], env)
        url = urlsplit(environment(services["web"], env)["DATABASE_URL"])
        assert url.username == db["POSTGRES_USER"]
        assert url.password == db["POSTGRES_PASSWORD"]
        assert url.path == "/" + db["POSTGRES_DB"]


def test_secret_key_and_database_password_must_be_supplied_by_the_operator(services):
    raw_web = services["web"]["environment"]
    raw_db = services["db"]["environment"]
    assert variables_in(raw_web["SECRET_KEY"]) == {"SECRET_KEY"}
    assert "POSTGRES_PASSWORD" in variables_in(raw_web["DATABASE_URL"])
    assert variables_in(raw_db["POSTGRES_PASSWORD"]) == {"POSTGRES_PASSWORD"}

    for missing in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        for empty in ({}, {missing: ""}):
            env = {key: value for key, value in OPERATOR_ENV.items() if key != missing} | empty
            with pytest.raises(MissingRequiredVariable, match=missing):
                environment(services["web"], env)
    with pytest.raises(MissingRequiredVariable, match="POSTGRES_PASSWORD"):
        environment(services["db"], {"SECRET_KEY": "s"})

    # And the values the operator supplies are the values used.
    assert environment(services["web"], OPERATOR_ENV)["SECRET_KEY"] == OPERATOR_ENV["SECRET_KEY"]
    assert environment(services["db"], OPERATOR_ENV)["POSTGRES_PASSWORD"] == OPERATOR_ENV["POSTGRES_PASSWORD"]


def test_django_runs_in_production_mode_behind_https(services):
    for name in APP_SERVICES:
        env = environment(services[name], OPERATOR_ENV)
        assert env["AKAGI_REQUIRE_SECRET_KEY"] == "1"
        assert env["AKAGI_SECURE_COOKIES"] == "1"
        assert env.get("DEBUG", "0").lower() in ("", "0", "false", "no", "off")
        assert env["AKAGI_STATIC_ROOT"] == "/app/staticfiles"
        assert env["AKAGI_MEDIA_ROOT"] == "/data/media"
        for key in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_VERSION"):
            assert env[key] == OPERATOR_ENV[key]
            assert environment(services[name], {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"})[key] == ""


def llm_setting_names() -> tuple[str, ...]:
    """``llm.config.SETTING_NAMES``, read from the source (this module must not import Django)."""
    tree = ast.parse(LLM_CONFIG.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SETTING_NAMES" for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise AssertionError("SETTING_NAMES not found in llm/config.py")


AZURE_AND_COMPATIBLE_ENV = {
    "AZURE_OPENAI_DEPLOYMENT": "gpt-4o-japaneast",
    "AZURE_OPENAI_MINI_DEPLOYMENT": "gpt-4o-mini-japaneast",
    "AZURE_OPENAI_LABEL": "GPT-4o（Azure OpenAI 東日本）",
    "AZURE_OPENAI_MINI_LABEL": "GPT-4o mini（Azure OpenAI 東日本）",
    "AZURE_OPENAI_PRICE_PER_1K_CHARS_YEN": "1.8",
    "AZURE_OPENAI_MINI_PRICE_PER_1K_CHARS_YEN": "0.25",
    "OPENAI_COMPAT_BASE_URL": "http://llm.internal:8000/v1",
    "OPENAI_COMPAT_MODEL": "qwen2.5-32b",
    "OPENAI_COMPAT_LABEL": "庁内LLM",
    "OPENAI_COMPAT_API_KEY": "placeholder",
    "OPENAI_COMPAT_CONTEXT_CHARS": "16000",
    "OPENAI_COMPAT_MAX_OUTPUT_CHARS": "4000",
    "OPENAI_COMPAT_PRICE_PER_1K_CHARS_YEN": "0",
    "AKAGI_LLM_DEFAULT_MODEL": "gpt-4o",
    "AKAGI_LLM_READ_TIMEOUT": "90",
}


def test_web_and_worker_receive_the_azure_deployment_and_openai_compatible_settings(services):
    env = OPERATOR_ENV | AZURE_AND_COMPATIBLE_ENV
    minimal = {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"}
    for name in ("web", "worker"):
        passed = environment(services[name], env)
        for key, value in AZURE_AND_COMPATIBLE_ENV.items():
            assert passed.get(key) == value, f"{name} does not pass {key} through"
        # Unset in .env: passed as empty, which llm.config reads as "unset" (its own default applies).
        unset = environment(services[name], minimal)
        for key in AZURE_AND_COMPATIBLE_ENV:
            assert unset[key] == "", f"{name}: {key} should default to empty"


def test_every_variable_llm_config_reads_reaches_every_app_service_and_defaults_to_empty(services):
    names = llm_setting_names()
    assert {"AZURE_OPENAI_ENDPOINT", "OPENAI_COMPAT_BASE_URL", "AKAGI_LLM_MODELS"} <= set(names)
    minimal = {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"}
    for service in APP_SERVICES:
        raw = services[service]["environment"]
        missing = [name for name in names if name not in raw]
        assert not missing, f"{service} does not pass {missing}"
        for name in names:
            assert variables_in(str(raw[name])) == {name}, name
            assert environment(services[service], minimal)[name] == "", name
            assert environment(services[service], {**minimal, name: "x"})[name] == "x", name


def test_numeric_settings_read_with_int_get_real_defaults_instead_of_empty_strings(services):
    # config/settings.py does int(os.environ.get(NAME, default)): an empty string would stop Django from starting.
    defaults = {"AKAGI_MAX_PROMPT_CHARS": "30000", "DB_POOL_MAX_SIZE": "20"}
    minimal = {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"}
    for service in APP_SERVICES:
        for env in (minimal, minimal | dict.fromkeys(defaults, "")):  # unset, and left empty in .env
            passed = environment(services[service], env)
            for name, default in defaults.items():
                assert passed[name] == default, (service, name)
        chosen = {"AKAGI_MAX_PROMPT_CHARS": "50000", "DB_POOL_MAX_SIZE": "10"}
        passed = environment(services[service], OPERATOR_ENV | chosen)
        assert {name: passed[name] for name in chosen} == chosen


def test_only_the_base_domain_and_its_municipality_subdomains_are_trusted(services):
    env = environment(services["web"], OPERATOR_ENV)
    assert env["AKAGI_BASE_DOMAIN"] == "ai.pref-example.lg.jp"
    assert env["ALLOWED_HOSTS"].split(",") == ["ai.pref-example.lg.jp", ".ai.pref-example.lg.jp"]
    assert env["CSRF_TRUSTED_ORIGINS"].split(",") == [
        "https://ai.pref-example.lg.jp",
        "https://*.ai.pref-example.lg.jp",
    ]


def test_base_domain_has_the_same_default_everywhere_it_is_used(services):
    minimal = {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "p"}
    domains = {environment(services[name], minimal)["AKAGI_BASE_DOMAIN"] for name in ("web", "certs", "nginx")}
    assert domains == {"akagi.example.lg.jp"}
    web = environment(services["web"], minimal)
    assert web["ALLOWED_HOSTS"] == "akagi.example.lg.jp,.akagi.example.lg.jp"
    assert web["CSRF_TRUSTED_ORIGINS"] == "https://akagi.example.lg.jp,https://*.akagi.example.lg.jp"


def test_web_is_reachable_only_through_nginx(services):
    assert "ports" not in services["web"]
    assert "8000" in [str(port) for port in services["web"].get("expose", [])]
    assert published_ports(services["nginx"]) == {80, 443}
    for name in ALL_SERVICES - {"nginx"}:
        assert not services[name].get("ports"), f"{name} must not be published on the host"


def test_web_serves_the_asgi_app_on_port_8000_and_trusts_nginx_for_the_client_scheme(services):
    cmd = command(services["web"])
    assert cmd[:2] == ["uvicorn", "config.asgi:application"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"  # noqa: S104 - inside the container; nothing publishes it
    assert cmd[cmd.index("--port") + 1] == "8000"
    assert "--proxy-headers" in cmd
    assert "--forwarded-allow-ips=*" in cmd
    assert (ROOT / "config" / "asgi.py").is_file()


def test_web_health_is_checked_at_healthz_with_python_not_curl(services):
    check = services["web"]["healthcheck"]["test"]
    joined = " ".join(check) if isinstance(check, list) else check
    assert "http://localhost:8000/healthz" in joined
    assert "urllib" in joined
    assert "curl" not in joined and "wget" not in joined


def test_database_and_redis_report_healthy_only_when_they_answer(services):
    db_check = " ".join(services["db"]["healthcheck"]["test"])
    assert "pg_isready" in db_check
    # $$ leaves the variable to the container's shell instead of Compose.
    assert "$${POSTGRES_USER}" in db_check
    assert interpolate(db_check, {}).count("${POSTGRES_USER}") == 1
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_migrations_run_once_for_every_schema_before_the_app_starts(services):
    migrate = services["migrate"]
    assert command(migrate) == ["python", "manage.py", "migrate_schemas"]
    assert depends_on(migrate) == {"db": "service_healthy", "redis": "service_healthy"}
    for name in ("web", "worker", "beat"):
        assert depends_on(services[name]).get("migrate") == "service_completed_successfully", name


def test_one_shot_services_are_not_restarted_and_the_rest_are(services):
    for name in ONE_SHOT:
        assert str(services[name].get("restart", "no")) == "no", name
    for name in LONG_RUNNING:
        assert services[name].get("restart") in ("unless-stopped", "always"), name


def test_worker_runs_the_celery_app_of_the_project(services):
    assert command(services["worker"]) == ["celery", "-A", "config", "worker", "-l", "info"]


def test_beat_uses_the_tenant_aware_scheduler_with_a_schedule_file_on_a_volume(services):
    cmd = command(services["beat"])
    assert cmd[:4] == ["celery", "-A", "config", "beat"]
    scheduler = cmd[cmd.index("-S") + 1]
    assert scheduler == "tenant_schemas_celery.scheduler:TenantAwarePersistentScheduler"
    # The class exists in the locked library (read, not imported: importing it needs configured Django).
    module, _, cls = scheduler.partition(":")
    spec = importlib.util.find_spec(module)
    assert spec and spec.origin
    assert re.search(rf"^class {cls}\b", Path(spec.origin).read_text(encoding="utf-8"), re.MULTILINE)

    schedule = Path(cmd[cmd.index("--schedule") + 1])
    mounts = volume_mounts(services["beat"])
    assert str(schedule.parent) in mounts, "the schedule file must survive a container restart"


def test_data_lives_in_named_volumes_that_survive_recreating_containers(compose, services):
    declared = set(compose["volumes"])
    # PostgreSQL 18 images keep data under /var/lib/postgresql/18/docker: mount the parent, not .../data.
    assert volume_mounts(services["db"]) == {"/var/lib/postgresql": "db-data"}
    assert volume_mounts(services["redis"]) == {"/data": "redis-data"}
    assert command(services["redis"])[-2:] == ["--appendonly", "yes"]
    for name in ("migrate", "web", "worker"):
        assert volume_mounts(services[name]).get("/data/media") == "media", name
    used = {source for name in ALL_SERVICES for source in volume_mounts(services[name]).values()
            if not source.startswith(".")}
    assert used <= declared, f"undeclared volumes: {used - declared}"


# =========================================================================== tests: TLS and nginx


def test_nginx_starts_after_the_certificate_exists_and_the_app_is_up(services):
    deps = depends_on(services["nginx"])
    assert deps["certs"] == "service_completed_successfully"
    assert "web" in deps


def test_nginx_renders_the_template_and_reads_the_certificates_the_certs_service_writes(services):
    nginx_mounts = volume_mounts(services["nginx"])
    templates = {target: source for target, source in nginx_mounts.items()
                 if target.startswith("/etc/nginx/templates/")}
    assert list(templates.values()) == ["./docker/nginx/akagi.conf.template"]
    assert next(iter(templates)).endswith(".conf.template")

    certs_mounts = volume_mounts(services["certs"])
    cert_dir = environment(services["certs"], OPERATOR_ENV).get("CERT_DIR", "/certs")
    assert nginx_mounts["/etc/nginx/certs"] == certs_mounts[cert_dir]
    assert certs_mounts["/gen-cert.sh"] == "./docker/nginx/gen-cert.sh"
    assert "/gen-cert.sh" in command(services["certs"]) + list(services["certs"].get("entrypoint", []))
    assert services["certs"]["image"].split(":")[0] in ("alpine", "alpine/openssl")


def test_nginx_template_uses_only_variables_the_nginx_container_defines(services):
    defined = set(services["nginx"].get("environment") or {})
    text = re.sub(r"#[^\n]*", "", NGINX_TEMPLATE.read_text(encoding="utf-8"))
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text))
    assert used == {"AKAGI_BASE_DOMAIN"}
    assert used <= defined, "an undefined ${VAR} would reach nginx unreplaced"


def test_nginx_redirects_http_to_https_without_proxying(nginx_conf):
    http = server_listening_on(nginx_conf, 80)
    assert directives(http, "proxy_pass") == []
    returns = directives(http, "return") + [args for _, body in children(http, "location")
                                            for args in directives(body, "return")]
    assert returns == [["301", "https://$host$request_uri"]]


def test_nginx_answers_for_the_base_domain_and_every_municipality_subdomain(nginx_conf):
    for port in (80, 443):
        names = directive(server_listening_on(nginx_conf, port), "server_name")
        assert set(names) == {"ai.pref-example.lg.jp", "*.ai.pref-example.lg.jp"}, port


def test_nginx_terminates_tls_1_2_and_1_3_only_with_the_generated_certificate(nginx_conf):
    https = server_listening_on(nginx_conf, 443)
    assert any("ssl" in listen for listen in directives(https, "listen"))
    assert sorted(directive(https, "ssl_protocols")) == ["TLSv1.2", "TLSv1.3"]
    assert directive(https, "ssl_certificate") == ["/etc/nginx/certs/fullchain.pem"]
    assert directive(https, "ssl_certificate_key") == ["/etc/nginx/certs/privkey.pem"]


def test_nginx_sends_hsts_for_a_year_including_subdomains_on_every_response(nginx_conf):
    https = server_listening_on(nginx_conf, 443)
    hsts = [args for args in directives(https, "add_header") if args[0].lower() == "strict-transport-security"]
    assert hsts == [["Strict-Transport-Security", "max-age=31536000; includeSubDomains", "always"]]
    # add_header in a location would silently drop the server-level header there.
    assert directives(root_location(https), "add_header") == []


def test_nginx_proxies_to_web_port_8000_with_the_original_host_and_scheme(nginx_conf):
    location = root_location(server_listening_on(nginx_conf, 443))
    variables = {args[0]: args[1] for args in directives(location, "set")}
    target = directive(location, "proxy_pass")[0]
    target = re.sub(r"\$([a-z_]+)", lambda m: variables.get("$" + m[1], m[0]), target)
    assert target == "http://web:8000"

    headers = {args[0].lower(): args[1] for args in directives(location, "proxy_set_header")}
    assert headers["host"] == "$host"
    assert headers["x-forwarded-proto"] == "$scheme"
    # nginx is the edge: the client's own X-Forwarded-For would let it choose the address uvicorn reports.
    assert headers["x-forwarded-for"] == "$remote_addr"


def test_nginx_streams_answers_token_by_token_and_accepts_document_uploads(nginx_conf):
    https = server_listening_on(nginx_conf, 443)
    location = root_location(https)
    assert directive(location, "proxy_buffering") == ["off"]
    assert seconds(directive(location, "proxy_read_timeout")[0]) >= 300
    body_size = directives(location, "client_max_body_size") or directives(https, "client_max_body_size")
    assert body_size == [["50m"]]


def test_nginx_honours_the_apps_x_accel_buffering_header_and_does_not_compress_streams(nginx_conf):
    # chat/views.py sends X-Accel-Buffering: no; nginx must not be told to ignore it, and gzip would buffer.
    https = server_listening_on(nginx_conf, 443)
    location = root_location(https)
    for block in (nginx_conf, https, location):
        for args in directives(block, "proxy_ignore_headers"):
            assert "x-accel-buffering" not in [arg.lower() for arg in args]
        assert directives(block, "gzip") in ([], [["off"]])
    assert directive(location, "proxy_cache") == ["off"]


# =========================================================================== tests: certificate script


def test_self_signed_certificate_covers_the_subdomains_and_is_never_overwritten(tmp_path):
    sh, openssl = shutil.which("sh"), shutil.which("openssl")
    if not (sh and openssl):
        pytest.skip("needs sh and openssl")
    env = {"PATH": str(Path(openssl).parent) + ":/usr/bin:/bin", "AKAGI_BASE_DOMAIN": "ai.pref-example.lg.jp",
           "CERT_DIR": str(tmp_path / "certs")}
    subprocess.run([sh, str(GEN_CERT)], env=env, check=True, capture_output=True)
    cert, key = tmp_path / "certs" / "fullchain.pem", tmp_path / "certs" / "privkey.pem"
    assert key.stat().st_mode & 0o077 == 0, "the private key must not be readable by others"
    text = subprocess.run([openssl, "x509", "-in", str(cert), "-noout", "-text"],
                          check=True, capture_output=True, text=True).stdout
    assert "DNS:ai.pref-example.lg.jp, DNS:*.ai.pref-example.lg.jp" in text
    assert "CA:FALSE" in text

    # An organisation's certificate put in its place stays.
    cert.write_text("organisation certificate")
    subprocess.run([sh, str(GEN_CERT)], env=env, check=True, capture_output=True)
    assert cert.read_text() == "organisation certificate"

    without_domain = {key: value for key, value in env.items() if key != "AKAGI_BASE_DOMAIN"}
    assert subprocess.run([sh, str(GEN_CERT)], env=without_domain | {"CERT_DIR": str(tmp_path / "other")},
                          capture_output=True).returncode != 0


# =========================================================================== tests: image


def test_image_installs_exactly_the_locked_dependencies_without_dev_tools():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(re.search(r"\bpip install uv\b", run) for run in runs)
    sync = [run for run in runs if "uv sync" in run]
    assert len(sync) == 1
    assert "--frozen" in sync[0].split() and "--no-dev" in sync[0].split()

    position = {instruction: i for i, instruction in enumerate(instructions)}
    lock_copy = next(i for i, (kw, args) in enumerate(instructions) if kw == "COPY" and "uv.lock" in args)
    assert lock_copy < position[("RUN", sync[0])], "uv.lock must be in the image before `uv sync`"
    assert "pyproject.toml" in instructions[lock_copy][1]


def test_image_runs_the_project_virtualenv_as_a_non_root_user():
    instructions = dockerfile_instructions()
    env = " ".join(args for keyword, args in instructions if keyword == "ENV")
    assert re.search(r"PATH=\"?/app/\.venv/bin:\$PATH", env)
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in env, "uv must install into the virtualenv on PATH"
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in instructions


def test_static_files_are_collected_at_build_time_without_starting_embedded_servers():
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    collect = [run for run in runs if "collectstatic" in run]
    assert len(collect) == 1
    # Without DATABASE_URL / REDIS_URL the settings would start an embedded PostgreSQL and Redis.
    for assignment in ("DATABASE_URL=", "REDIS_URL=", "SECRET_KEY="):
        assert assignment in collect[0]
    assert "--noinput" in collect[0]
    # Only for that line: build-time values must not become the image's environment.
    env = " ".join(args for keyword, args in dockerfile_instructions() if keyword in ("ENV", "ARG"))
    assert "SECRET_KEY" not in env and "DATABASE_URL" not in env


def test_build_context_leaves_out_secrets_local_data_and_tests():
    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".env", ".venv", ".data", ".git", "tests"} <= ignored
    assert any("__pycache__" in pattern for pattern in ignored)
    for needed in ("pyproject.toml", "uv.lock", "manage.py", "config", "static", "templates"):
        assert needed not in ignored


# =========================================================================== tests: .env.example


def env_example() -> dict[str, tuple[str, list[str]]]:
    """name -> (value, the comment lines right above it)."""
    entries, comments = {}, []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comments.append(stripped)
        elif "=" in stripped:
            name, _, value = stripped.partition("=")
            entries[name.strip()] = (value.strip(), comments)
            comments = []
        else:
            comments = []
    return entries


def test_env_example_names_every_variable_the_compose_file_uses(compose):
    used = set().union(*(variables_in(value) for value in strings_in(compose)))
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "AKAGI_BASE_DOMAIN"} <= used
    assert set(env_example()) == used


def test_env_example_explains_each_variable_in_japanese_and_holds_no_secrets():
    entries = env_example()
    for name, (_value, comments) in entries.items():
        assert any(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", comment) for comment in comments), name
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD", "AZURE_OPENAI_API_KEY"):
        assert entries[secret][0] == "", f"{secret} must be left empty in the example"
