"""Realistic demo data in all three grains (request logs, usage reports, cost reports), and the
request-log generator the benchmark uses: ``traffic`` (the requests, as SQL), ``exports`` (the
files each source would give), ``load`` (write them and import them, marked as demo data)."""

from lib.demo.load import load_demo
from lib.demo.traffic import DEMO_PRICES, MODELS, PROJECTS, request_log_sql

__all__ = ["DEMO_PRICES", "MODELS", "PROJECTS", "load_demo", "request_log_sql"]
