"""The dev store: a MongoDB wire-protocol server on loopback over an in-memory engine.

No MongoDB server can be installed on the development and CI machines, so the broker's
default store for development and tests is this server: the broker reaches it with a
plain ``AsyncMongoClient("mongodb://127.0.0.1:PORT")``, through exactly the code paths
it uses with MongoDB. It is a development and test tool (mongomock-ng's engine, no
persistence, no replication, no query planner beyond reading indexes on (field, ``_id``):
see _planner), never a MongoDB replacement.

- ``start_subprocess()`` runs it as a child process (tests, ``make run``);
- ``await serve()`` runs it inside the current event loop;
- ``python -m broker.devstore`` runs it standalone.
"""

from ._process import DevStoreProcess, start_subprocess
from ._server import DevStoreServer, serve

__all__ = ["DevStoreProcess", "DevStoreServer", "serve", "start_subprocess"]
