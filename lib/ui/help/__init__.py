"""Help tabs, one module each (drawn by pages/9_Help.py)."""
