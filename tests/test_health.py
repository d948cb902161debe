"""Health probes answer without signing in."""


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_data(as_text=True) == "ok\n"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json == {"status": "ok"}
