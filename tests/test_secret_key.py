"""Development without SECRET_KEY signs with a random key made once in instance/secret_key (mode
0600) and reused; never a fixed one, so a cookie forged with the old fixed key opens nothing."""

from __future__ import annotations

import stat
import threading

import pytest

import config
from config import ConfigError
from scheduler import create_app
from scheduler.extensions import db
from tests.conftest import PASSWORD, csrf_from

#: what development signed with before, when SECRET_KEY was unset
OLD_FIXED_KEY = "development-only-not-secret"


@pytest.fixture
def instance(monkeypatch, tmp_path):
    """An empty instance folder, no SECRET_KEY and no .env to supply one."""
    folder = tmp_path / "instance"
    monkeypatch.setattr(config, "INSTANCE", folder)
    monkeypatch.setattr(config, "ROOT", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    return folder


def _dev_app(database_url: str):
    return create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url})


def test_two_development_apps_share_the_key_made_on_first_run(instance, database_url):
    assert not (instance / "secret_key").exists()
    first, second = _dev_app(database_url), _dev_app(database_url)
    key = first.config["SECRET_KEY"]
    assert second.config["SECRET_KEY"] == key
    assert key != OLD_FIXED_KEY and "not-secret" not in key and len(key) == 64
    path = instance / "secret_key"
    assert path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no draft left behind


def test_another_instance_folder_gets_another_key(instance, database_url, monkeypatch, tmp_path):
    key = _dev_app(database_url).config["SECRET_KEY"]
    monkeypatch.setattr(config, "INSTANCE", tmp_path / "elsewhere")
    assert _dev_app(database_url).config["SECRET_KEY"] != key


def test_processes_starting_together_agree_on_one_key(instance):
    keys: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait(timeout=10)
        keys.append(config.development_secret(instance))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(keys) == 8 and len(set(keys)) == 1
    assert (instance / "secret_key").read_text().strip() == keys[0]


def test_a_set_secret_key_wins_and_no_file_is_made(instance, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-0123456789")
    assert config.load_config("development")["SECRET_KEY"] == "from-the-environment-0123456789"
    assert not instance.exists()


def test_an_unusable_key_file_is_refused(instance):
    instance.mkdir()
    (instance / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError, match="secret_key"):
        config.load_config("development")


def test_the_testing_key_is_random_too():
    assert "not-secret" not in config.load_config("testing", env={})["SECRET_KEY"]


def _admin_cookie(app) -> str:
    """Signs in as the admin on `app` and returns the session cookie."""
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    resp = client.post("/login", data={"email": "boss@example.com", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return client.get_cookie("session").value


def _opens_admin_staff(app, cookie: str) -> bool:
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client.get("/admin/staff").status_code == 200


@pytest.fixture
def closing():
    """Closes the database connections of the apps a test made."""
    apps = []
    yield apps.append
    for made in apps:
        with made.app_context():
            db.engine.dispose()


def test_a_cookie_signed_with_the_old_fixed_key_is_refused(instance, database_url, app, make_user, closing):
    make_user("admin", email="boss@example.com")
    db.session.commit()
    forger = create_app("development", {"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": OLD_FIXED_KEY})
    dev = _dev_app(database_url)
    closing(forger)
    closing(dev)
    forged = _admin_cookie(forger)
    assert _opens_admin_staff(forger, forged)  # a valid admin session, for an app on the old key
    assert not _opens_admin_staff(dev, forged)
    assert dev.test_client().get("/admin/staff").headers["Location"].startswith("/login")
    assert _opens_admin_staff(dev, _admin_cookie(dev))  # a real sign-in on the new key works
