"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

The reminder scheduler never runs in these workers (SCHEDULER_EMBEDDED is off unless set);
run `flask --app wsgi scheduler run` as its own process instead (two of them are safe).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The master imports the app once and each worker is a fork of it. Replacing a worker (every
# max_requests) then costs a fork instead of an import of the whole app (0.8 s of CPU each, on
# the cores serving requests); the workers also share the app's code pages. The app opens no
# connection when it is built; post_fork drops any pool a worker inherited all the same.
# A code change needs a restart of the master (or USR2); HUP reloads only this configuration.
preload_app = True
raw_env = ["SCHEDULER_EMBEDDED=off"]


def post_fork(server, worker):
    """Each worker opens its own database connections, never the master's."""
    from scheduler.db import after_fork

    after_fork(server.app.wsgi())
