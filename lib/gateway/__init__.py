"""The Tokenboard gateway: an OpenAI- and Anthropic-compatible proxy that checks Tokenboard
keys (IP/CIDR and domain allowlists, models, endpoints, budgets, per-minute limits) and
journals every request, without opening the database.

``python -m lib.gateway --help`` lists its options. It reads the key snapshot the app writes
(``lib.keys.snapshot``) and appends request rows to a journal the app's worker imports
(``lib.gateway.journal``). Provider keys come from the environment or the app's secrets file
only (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, optionally ``COMPATIBLE_API_KEY``), and are
never logged.
"""
