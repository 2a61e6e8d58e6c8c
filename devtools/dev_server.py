"""`chalice local`, with a server tuned for parallel clients:

    python -m devtools.dev_server [--project-dir DIR] --stage local --host 127.0.0.1 --port 8000

It builds the app exactly as `chalice local --no-autoreload` does (the stage's environment,
the same route validation, Chalice's own gateway and handler), and changes two settings of
the HTTP server that Chalice does not expose: a listen queue of 128 instead of 5, where fresh
connections from 16 threads were reset, and TCP_NODELAY on accepted sockets, where a kept-alive
request waited ~50 ms for the client's delayed ACK (headers and body go out in two writes).
"""
import argparse
import logging
import os
import signal
import sys

from chalice import local
from chalice.cli import factory
from chalice.deploy.validate import validate_routes

LISTEN_QUEUE = 128


class TunedHTTPServer(local.ThreadedHTTPServer):
    request_queue_size = LISTEN_QUEUE


class NoDelayRequestHandler(local.ChaliceRequestHandler):
    disable_nagle_algorithm = True  # socketserver sets TCP_NODELAY on each accepted socket


def create_server(project_dir: str, stage: str, host: str, port: int) -> local.LocalDevServer:
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as the chalice CLI sets it
    config = factory.CLIFactory(project_dir, environ=os.environ).create_config_obj(
        chalice_stage_name=stage
    )
    app = config.chalice_app
    validate_routes(app.routes)
    local.CustomLocalChalice.__bases__ = (local.LocalChalice, app.__class__)
    app.__class__ = local.CustomLocalChalice  # per-thread current_request, as chalice local does
    return local.LocalDevServer(app, config, host, port, handler_cls=NoDelayRequestHandler,
                                server_cls=TunedHTTPServer)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-dir", default=os.getcwd())
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = create_server(os.path.abspath(args.project_dir), args.stage, args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
