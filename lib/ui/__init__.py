"""The Streamlit side: the only part of ``lib`` that imports streamlit."""
