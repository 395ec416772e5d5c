"""The gateway's command line and server: options, provider keys, uvicorn.

Provider keys are read from the environment, else ``.streamlit/secrets.toml`` (top level):
``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY`` and, for the OpenAI-compatible upstream,
``COMPATIBLE_API_KEY`` (optional: local servers such as Ollama take none). They are never
options (a command line shows in process lists) and never logged.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

from lib.config import setting
from lib.gateway.app import Gateway, Upstream, build_app
from lib.gateway.guard import Guard
from lib.gateway.journal import Journal
from lib.http import ANTHROPIC_API, OPENAI_API
from lib.keys.paths import journal_dir, snapshot_path
from lib.keys.restrictions import trusted_networks
from lib.keys.snapshot import SnapshotCache

log = logging.getLogger("lib.gateway")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lib.gateway",
        description=(
            "Tokenboard gateway: an OpenAI- and Anthropic-compatible proxy that checks "
            "Tokenboard keys and journals every request. Provider keys come from the "
            "environment or .streamlit/secrets.toml only: OPENAI_API_KEY, ANTHROPIC_API_KEY "
            "(and COMPATIBLE_API_KEY for --compatible-base-url, when it needs one)."
        ),
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every interface)")  # fmt: skip
    p.add_argument("--port", type=int, default=8787, help="port to listen on (default 8787)")
    p.add_argument("--openai-base-url", default=OPENAI_API,
                   help=f"OpenAI's API root, with or without /v1 (default {OPENAI_API})")  # fmt: skip
    p.add_argument("--anthropic-base-url", default=ANTHROPIC_API,
                   help=f"Anthropic's API root (default {ANTHROPIC_API})")  # fmt: skip
    p.add_argument("--compatible-base-url", default=None,
                   help="an OpenAI-compatible server (Azure OpenAI, Ollama, vLLM, a LiteLLM proxy); "
                        "requests for a model named compatible/<name> go there as <name>")  # fmt: skip
    p.add_argument("--keys-snapshot", type=Path, default=None,
                   help="the key snapshot the app writes (default: TOKENBOARD_KEYS_SNAPSHOT, else "
                        "tokenboard-keys.json in TOKENBOARD_STATE_DIR, else beside the database)")  # fmt: skip
    p.add_argument("--trusted-proxy", action="append", default=[], metavar="CIDR",
                   help="a proxy (address or CIDR, IPv4 or IPv6) whose X-Forwarded-For is believed; "
                        "repeat for several, or give a comma-separated list (default: none, the TCP "
                        "peer is the client)")  # fmt: skip
    p.add_argument("--journal-dir", type=Path, default=None,
                   help="the folder of the request journal the app imports (default: "
                        "TOKENBOARD_GATEWAY_JOURNAL, else gateway-journal/ in TOKENBOARD_STATE_DIR, else "
                        "beside the database)")  # fmt: skip
    p.add_argument("--instance", default=None,
                   help="this gateway's name, in its journal file events-<instance>.jsonl (default: "
                        "the host name and port); two gateways sharing a journal folder need two names")  # fmt: skip
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def provider_key(name: str) -> str | None:
    """A provider key from the environment, else the app's secrets; None when unset."""
    return setting(name)


def build(args: argparse.Namespace) -> Gateway:
    """The gateway the options describe (clients opened at the server's start)."""
    proxies = trusted_networks(
        part.strip() for item in args.trusted_proxy for part in item.split(",")
    )
    snap = args.keys_snapshot or snapshot_path()
    journal = Journal(args.journal_dir or journal_dir(),
                      args.instance or f"{socket.gethostname()}-{args.port}")  # fmt: skip
    compatible = (
        Upstream("compatible", args.compatible_base_url, provider_key("COMPATIBLE_API_KEY"))
        if args.compatible_base_url
        else None
    )
    gw = Gateway(
        Guard(SnapshotCache(snap), proxies),
        journal,
        Upstream("openai", args.openai_base_url, provider_key("OPENAI_API_KEY")),
        Upstream("anthropic", args.anthropic_base_url, provider_key("ANTHROPIC_API_KEY")),
        compatible,
    )
    log.info("key snapshot: %s", snap)
    log.info("journal: %s", journal.path)
    for up in gw.upstreams.values():
        log.info("upstream %s: %s (provider key %s)", up.provider, up.root,
                 "set" if up.api_key else "not set")  # fmt: skip
    if proxies:
        log.info("trusted proxies: %s", ", ".join(str(p) for p in proxies))
    return gw


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        gateway = build(args)
    except ValueError as err:
        print(f"gateway: bad option: {err}")
        return 2
    except OSError as err:
        print(f"gateway: {err}")
        return 1
    import uvicorn  # here: --help needs no server

    config = uvicorn.Config(
        build_app(gateway),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,  # X-Forwarded-For is read by the guard, from trusted proxies only
        timeout_keep_alive=75,
        backlog=2048,
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run()
    return 0
