"""Settings tabs, one module each (drawn by pages/8_Settings.py)."""
