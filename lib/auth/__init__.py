"""Users, roles and permissions. Pure Python: the login widget lives in ``lib/ui``."""
