"""Running the app: uvicorn in this thread (`serve`) or in a daemon thread (`up --api`)."""

from __future__ import annotations

import threading

from starlette.applications import Starlette


def _server(app: Starlette, host: str, port: int):
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):  # Ctrl-C or SIGTERM: end the open /info streams first
            app.state.stopping.set()
            super().handle_exit(sig, frame)

    # whatever else holds a connection open gets 2 s before the shutdown goes on
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    return Server(config)


def serve(app: Starlette, host: str, port: int) -> None:
    """Run the server in this thread until interrupted."""
    _server(app, host, port).run()


def serve_in_background(app: Starlette, host: str, port: int):
    """Run the server in a daemon thread (for `up --api`); returns the uvicorn server (set should_exit to stop)."""
    # uvicorn installs signal handlers only in the main thread: the supervisor keeps Ctrl-C and SIGTERM
    server = _server(app, host, port)
    threading.Thread(target=server.run, daemon=True).start()
    return server
