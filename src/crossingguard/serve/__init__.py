"""The guard service (``crossingguard serve``, the ``serve`` extra): FastAPI + uvicorn.

Not imported by ``import crossingguard``; importing it needs fastapi and prometheus-client.
"""

from crossingguard.serve.app import create_app
from crossingguard.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
