"""Configuration (CONTRACT §2): defaults, the required SECRET_KEY, refused bad values."""

from __future__ import annotations

import pytest

import config
from config import ConfigError, load_config
from scheduler import create_app


def test_contract_defaults_in_development():
    cfg = load_config("development", env={})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{config.INSTANCE / 'scheduler.db'}"
    assert cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///") and "/instance/" in cfg["SQLALCHEMY_DATABASE_URI"]
    assert cfg["CLINIC_TIMEZONE"] == "Europe/London"
    assert cfg["CLINIC_NAME"]
    assert cfg["BASE_URL"] == "http://127.0.0.1:5000"
    assert cfg["MAIL_SERVER"] is None  # the local outbox
    assert cfg["REMINDER_SEND_HOURS"] == "09:00-18:00"
    assert cfg["REMINDER_SWEEP_SECONDS"] == 60
    assert cfg["SCHEDULER_EMBEDDED"] is False  # the run command turns it on
    assert cfg["SECRET_KEY"]  # a development-only key
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True and cfg["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config("production", env={})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config("production", env={"SECRET_KEY": "   "})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(None, env={})  # production is the default environment


def test_create_app_refuses_production_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setattr(config, "ROOT", tmp_path)  # no .env file can supply one
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_production_with_a_secret_key(monkeypatch):
    cfg = load_config("production", env={"SECRET_KEY": "s3cret", "DATABASE_URL": "postgres://u@db/clinic"})
    assert cfg["SECRET_KEY"] == "s3cret"
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/clinic"
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["TESTING"] is False


def test_create_app_in_production_with_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    app = create_app()
    assert app.config["ENV_NAME"] == "production" and app.config["SECRET_KEY"] == "a-real-secret"
    assert app.config["TESTING"] is False


def test_testing_never_uses_the_real_database_or_smtp():
    cfg = load_config("testing", env={"DATABASE_URL": "postgresql+psycopg://prod/db", "MAIL_SERVER": "smtp.example"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] != "postgresql+psycopg://prod/db"
    assert cfg["MAIL_SERVER"] is None
    assert cfg["SCHEDULER_EMBEDDED"] is False


def test_environment_values_are_read():
    env = {
        "CLINIC_NAME": "Harbour",
        "CLINIC_TIMEZONE": "America/New_York",
        "BASE_URL": "https://clinic.example/",
        "MAIL_SERVER": "smtp.example",
        "MAIL_PORT": "587",
        "MAIL_USE_TLS": "on",
        "SCHEDULER_EMBEDDED": "1",
        "REMINDER_SEND_HOURS": "08:30-17:00",
        "REMINDER_SWEEP_SECONDS": "30",
    }
    cfg = load_config("development", env=env)
    assert (cfg["CLINIC_NAME"], cfg["CLINIC_TIMEZONE"], cfg["BASE_URL"]) == (
        "Harbour",
        "America/New_York",
        "https://clinic.example",
    )
    assert (cfg["MAIL_SERVER"], cfg["MAIL_PORT"], cfg["MAIL_USE_TLS"]) == ("smtp.example", 587, True)
    assert cfg["SCHEDULER_EMBEDDED"] is True
    assert (cfg["REMINDER_SEND_HOURS"], cfg["REMINDER_SWEEP_SECONDS"]) == ("08:30-17:00", 30)


@pytest.mark.parametrize(
    "env",
    [
        {"APP_ENV": "staging"},
        {"MAIL_PORT": "smtp"},
        {"MAIL_PORT": "0"},
        {"MAIL_USE_TLS": "maybe"},
        {"REMINDER_SWEEP_SECONDS": "0"},
        {"REMINDER_SWEEP_SECONDS": "1m"},
    ],
)
def test_bad_values_are_refused(env):
    with pytest.raises(ConfigError):
        load_config(None if "APP_ENV" in env else "development", env=env)


@pytest.mark.parametrize(
    "zone",
    [
        "Mars/Olympus_Mons",
        "Europe/Londn",
        "../../etc/passwd",
        "/etc/localtime",
        "GMT+1 ",
        "Europe/London\x00",
        "x" * 300,
    ],
)
def test_bad_clinic_timezone_is_refused(monkeypatch, zone):
    with pytest.raises(ConfigError, match="CLINIC_TIMEZONE"):
        load_config("development", env={"CLINIC_TIMEZONE": zone})
    if "\x00" in zone:
        return  # a real environment cannot hold NUL
    monkeypatch.setenv("CLINIC_TIMEZONE", zone)
    with pytest.raises(ConfigError, match="CLINIC_TIMEZONE"):
        create_app("testing")


@pytest.mark.parametrize("hours", ["9-5", "18:00-09:00", "09:00-25:00", "", "09:00-09:00"])
def test_bad_reminder_send_hours_are_refused(database_url, hours):
    with pytest.raises(ConfigError, match="REMINDER_SEND_HOURS"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "REMINDER_SEND_HOURS": hours})


def test_bad_clinic_timezone_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLINIC_TIMEZONE", "Not/AZone")
    with pytest.raises(ConfigError, match="CLINIC_TIMEZONE"):
        create_app("testing")


def test_other_timezones_are_accepted(database_url):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "CLINIC_TIMEZONE": "Australia/Sydney"})
    assert app.config["CLINIC_TIMEZONE"] == "Australia/Sydney"
