"""Tokenboard's own API keys: restrictions and their check (``restrictions``), the snapshot
the gateway reads (``snapshot``), where the gateway's files live (``paths``), the keys in the
database with their audit log (``store``), and the Keys page's "would this be allowed?"
(``check``).

Kept empty on purpose: the gateway imports ``restrictions``, ``snapshot`` and ``paths``,
which never open the database, and importing this package must not pull the others in.
"""
