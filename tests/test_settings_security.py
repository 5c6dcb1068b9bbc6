"""Production settings: SECRET_KEY required outside DEBUG, `.env` never read by the settings (so
never by the tests), `check --deploy` clean with docker-compose.yml's environment, HSTS and the
HTTPS redirect behind the TLS proxy. Settings are read at import, so most of these start a fresh
Python process with an environment built from scratch (no variable of this shell leaks in)."""
import os
import re
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fenxiao.secret_key import PUBLISHED_KEYS, secret_key_problem

REPO = Path(__file__).resolve().parent.parent
OLD_DEFAULT = "dev-insecure-fenxiao-secret-key-change-me-in-production"


def run_python(code: str, env: dict, cwd=REPO) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "fenxiao.settings", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**base, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def strong_key() -> str:
    return secrets.token_urlsafe(50)


def test_secret_key_policy():
    assert secret_key_problem("") == "SECRET_KEY is not set"
    assert OLD_DEFAULT in PUBLISHED_KEYS and secret_key_problem(OLD_DEFAULT) == "SECRET_KEY is a published example key"
    assert secret_key_problem("change-me-to-a-long-random-string") == "SECRET_KEY is a published example key"
    assert "django-insecure" in secret_key_problem("django-insecure-" + "x1y2z3" * 10)
    assert "too weak" in secret_key_problem("s3cr3t-but-short")
    assert "too weak" in secret_key_problem("ab" * 40)              # long, but two characters
    assert secret_key_problem(strong_key()) is None


SHOW_KEY = "from django.conf import settings; print(len(settings.SECRET_KEY), settings.SECRET_KEY[:4])"


@pytest.mark.parametrize("key", ["", OLD_DEFAULT])
def test_without_a_real_key_the_server_refuses_to_start(key):
    r = run_python(SHOW_KEY, {"SECRET_KEY": key} if key else {})
    assert r.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is" in r.stderr
    assert "refusing to start with DEBUG off" in r.stderr
    r = run_python("import fenxiao.wsgi", {"SECRET_KEY": key} if key else {})   # gunicorn's entry point too
    assert r.returncode != 0 and "ImproperlyConfigured" in r.stderr


def test_with_debug_a_missing_key_is_random_per_process():
    first, second = (run_python(SHOW_KEY, {"DEBUG": "1"}) for _ in range(2))
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    assert first.stdout.split()[0] == "67" and first.stdout != second.stdout


def test_a_token_signed_with_the_old_public_default_is_refused(in_tenant):
    """The finding: a server started without SECRET_KEY signed with the public default, so anyone
    could mint a staff or distributor token. The key in use is never that one; a forged token is 401."""
    import jwt
    from django.conf import settings

    from tests.factories import distributor

    assert settings.SECRET_KEY != OLD_DEFAULT and secret_key_problem(settings.SECRET_KEY) is None
    d = distributor(in_tenant, external_id="D1")
    forged = jwt.encode({"token_type": "access", "exp": 4102444800, "jti": "x", "tenant_id": in_tenant.pk,
                         "distributor_id": d.pk}, OLD_DEFAULT, algorithm="HS256")
    from tests.factories import CommitAPIClient

    r = CommitAPIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert r.status_code == 401 and r.json()["errors"][0]["code"] == "token_not_valid"
    signed = jwt.encode(jwt.decode(forged, OLD_DEFAULT, algorithms=["HS256"]), settings.SECRET_KEY, algorithm="HS256")
    assert CommitAPIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {signed}").status_code == 200


def test_dotenv_is_never_read_by_the_settings(tmp_path):
    """A copy of fenxiao/settings.py whose BASE_DIR holds a .env with a bogus DATABASE_URL and
    SECRET_KEY: neither reaches the settings (the tests load the same module through tests/settings.py)."""
    (tmp_path / "fenxiao").mkdir()
    shutil.copy(REPO / "fenxiao" / "settings.py", tmp_path / "fenxiao" / "settings.py")
    dotenv_key = "from-dotenv-" + strong_key()
    (tmp_path / ".env").write_text(f"DATABASE_URL=postgres://bogus:bogus@nowhere.invalid:1/bogus\n"
                                   f"SECRET_KEY={dotenv_key}\nDEBUG=1\nCACHE_URL=redis://nowhere.invalid:1/0\n")
    r = run_python(f"""
        import runpy
        s = runpy.run_path({str(tmp_path / 'fenxiao' / 'settings.py')!r})
        print(s["BASE_DIR"]); print(s["DATABASES"]["default"]["NAME"]); print(s["SECRET_KEY"]); print(s["DEBUG"])
        print(s["CACHES"]["default"]["BACKEND"])
    """, {"DEBUG": "1"}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    base_dir, db_name, key, debug, cache = r.stdout.split("\n")[:5]
    assert base_dir == str(tmp_path) and db_name == str(tmp_path / "db.sqlite3")
    assert key != dotenv_key and debug == "True" and cache == "django.core.cache.backends.locmem.LocMemCache"
    # and nothing in the code base reads one
    sources = [p for d in ("fenxiao", "tenants", "distributors", "orders", "commissions", "ledger", "tests")
               for p in (REPO / d).rglob("*.py")] + [REPO / "manage.py"]
    readers = [str(p.relative_to(REPO)) for p in sources
               if re.search(r"read_env|load_dotenv", p.read_text()) and p.name != Path(__file__).name]
    assert readers == []


def compose_environment() -> dict:
    """The `web` service's environment in docker-compose.yml, with ${VAR:?...} given values as an
    operator would and ${VAR:-default} taking its default."""
    import yaml

    given = {"SECRET_KEY": strong_key(), "POSTGRES_PASSWORD": "s3cret-pw"}
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    env = compose["services"]["web"]["environment"]

    def fill(value: str) -> str:
        def one(m):
            name, op, arg = m.group(1), m.group(2), m.group(3)
            if op == ":?":
                return given[name]
            return given.get(name) or arg
        return re.sub(r"\$\{(\w+)(:[-?])([^}]*)\}", one, str(value))

    return {k: fill(v) for k, v in env.items()}


def test_check_deploy_is_clean_with_the_compose_configuration():
    env = compose_environment()
    assert (env["DEBUG"], env["BEHIND_TLS_PROXY"], env["CACHE_URL"]) == ("0", "1", "redis://redis:6379/1")
    r = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=REPO,
                       env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env},
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "System check identified no issues" in r.stdout
    # without the shared cache and the proxy it is not clean: the checks do look
    r = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=REPO,
                       env={"PATH": os.environ.get("PATH", ""), "HOME": "/tmp", **env, "CACHE_URL": "",
                            "BEHIND_TLS_PROXY": "0"}, capture_output=True, text=True, timeout=120)
    found = set(re.findall(r"\((\w+\.W\d+)\)", r.stdout + r.stderr))
    assert r.returncode != 0 and found == {"fenxiao.W001", "security.W004", "security.W008", "security.W012",
                                           "security.W016"}, r.stdout + r.stderr


def test_behind_the_tls_proxy_https_is_enforced_and_hsts_sent():
    r = run_python("""
        import django; django.setup()
        from django.conf import settings
        from django.test import Client
        print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, settings.SECURE_HSTS_PRELOAD,
              settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.REST_FRAMEWORK["NUM_PROXIES"])
        c = Client()
        plain = c.get("/admin/login/")
        print(plain.status_code, plain["Location"])
        tls = c.get("/admin/login/", headers={"X-Forwarded-Proto": "https"})
        print(tls.status_code, tls["Strict-Transport-Security"])
    """, {"SECRET_KEY": strong_key(), "BEHIND_TLS_PROXY": "1", "ALLOWED_HOSTS": "testserver"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "31536000 True True True True 1",
        "301 https://testserver/admin/login/",
        "200 max-age=31536000; includeSubDomains; preload",
    ]
    r = run_python("""
        import django; django.setup()
        from django.test import Client
        print(Client().get("/admin/login/").headers.get("Strict-Transport-Security"))
    """, {"SECRET_KEY": strong_key(), "ALLOWED_HOSTS": "testserver"})
    assert r.stdout.strip() == "None", r.stderr                   # plain HTTP (the demo): no HSTS, no redirect


def published_ports(service: dict) -> list[tuple[str, str]]:
    """(host address, host port) of each port a compose service publishes, ${VAR:-default}
    taking its default; the short syntax "[ip:]host:container[/proto]" and the long one."""
    out = []
    for spec in service.get("ports", []):
        if isinstance(spec, dict):
            out.append((str(spec.get("host_ip", "")), str(spec.get("published", ""))))
            continue
        spec = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(spec)).split("/")[0]
        parts = spec.rsplit(":", 2)
        # "container" alone: an ephemeral host port on every interface
        out.append((parts[0], parts[1]) if len(parts) == 3 else ("", parts[0] if len(parts) == 2 else "any"))
    return out


def test_compose_publishes_the_app_on_loopback_only():
    """The settings trust X-Forwarded-For behind the TLS proxy (NUM_PROXIES=1): a client reaching
    the app port past the proxy would choose its own address on every request. So web's port is
    published on 127.0.0.1 only (for the proxy on the host), and no service publishes anything on
    another interface or shares the host's network."""
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert compose_environment()["BEHIND_TLS_PROXY"] == "1"
    assert published_ports(compose["services"]["web"]) == [("127.0.0.1", "8000")]
    for name, service in compose["services"].items():
        assert all(ip == "127.0.0.1" for ip, _ in published_ports(service)), name
        assert service.get("network_mode") != "host", name
    # the parser reads what an unsafe file would say
    assert published_ports({"ports": ["${WEB_PORT:-8000}:8000", "0.0.0.0:80:8000/tcp", "9000",
                                      {"target": 8000, "published": 8001}]}) == \
        [("", "8000"), ("0.0.0.0", "80"), ("", "any"), ("", "8001")]
