"""The help documentation: Markdown pages in both languages (``data/help/<lang>/``), searchable
by word, with the error knowledge base's entries made at load time.

- ``docs(lang)`` / ``load_docs(lang, root)``: the pages and their sections (``lib.help.docs``)
- ``search(docs, query)``: sections holding every word, ranked, with snippets
- ``problems(page_topics)``: what the help misses (pages, formats, error codes, languages)
"""

from lib.help.coverage import all_format_names, covered_formats, problems
from lib.help.docs import HELP_ROOT, Docs, HelpError, HelpPage, Section, docs, load_docs
from lib.help.search import Hit, Snippet, fold, plain, query_words, search

__all__ = [
    "HELP_ROOT",
    "Docs",
    "HelpError",
    "HelpPage",
    "Hit",
    "Section",
    "Snippet",
    "all_format_names",
    "covered_formats",
    "docs",
    "fold",
    "load_docs",
    "plain",
    "problems",
    "query_words",
    "search",
]
