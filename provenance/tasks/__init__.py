"""Celery tasks for upload pipelines past one machine: verify, sign,
register and look up clips on Celery workers behind a Redis broker.

    >>> from provenance.tasks import make_app  # doctest: +SKIP
    >>> app = make_app("redis://broker:6379/0")  # doctest: +SKIP
    >>> app.send_task("provenance.verify", args=["/shared/uploads/clip.mp4"]).get()  # doctest: +SKIP
    {'file': '/shared/uploads/clip.mp4', 'verdict': 'verified', ...}

Each task takes a file location the workers can read (a path on shared
storage, or an http(s) URL the worker fetches within bounds) and returns
the same JSON as the command line's ``--json``. Workers hold everything
secret or stateful themselves (the signing key, the trust store, the
repository connection): a task message carries names and options only.

``provenance worker --broker URL`` starts a worker; ``provenance verify
PATH... --engine celery --broker URL`` fans a batch out to the workers.
Needs the ``celery`` extra: ``pip install 'provenance[celery]'``.
"""

from __future__ import annotations

from provenance.tasks.app import TASKS, QueueSettings, make_app
from provenance.tasks.client import BrokerLost, gather
from provenance.tasks.runtime import WorkerSettings

__all__ = ["TASKS", "BrokerLost", "QueueSettings", "WorkerSettings", "gather", "make_app"]
