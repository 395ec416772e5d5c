"""Tokenboard's engine: storage, importers, pricing and analytics. Never imports streamlit."""
