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
# Import the app in each worker after the fork: each gets its own database pool.
preload_app = False
raw_env = ["SCHEDULER_EMBEDDED=off"]
