"""Importers: recognise an export file and plan how its rows become facts (``lib.ingest``
writes them). An import goes one way through these modules:

1. ``detect`` (the entry: ``plan_file``, ``file_columns``, ``FORMATS``) takes the file,
2. ``read`` opens it: its kind (CSV, JSON, Parquet), a ``Tabular`` for tables and JSON
   records, the parsed documents of a JSON report;
3. ``detect`` asks the registry, ``formats.REGISTRY``, which source format it is: each
   module of ``formats/`` (one per source: OpenAI and Anthropic admin API reports, the
   Anthropic Console, Claude Code, LiteLLM, Helicone, Langfuse, cloud bills, generic exports)
   declares its ``IMPORTERS``, tried by priority;
4. that format's plan matches columns (``match``, names in ``synonyms``),
5. and builds the ``Plan`` (``plan`` for a table's columns, ``base.arrow_plan`` for rows
   built in Python), which ``lib.ingest`` writes.

Every module may use the shared low ones: ``rules`` (what a value may be), ``canonical``
(the stored columns), ``values`` (SQL that reads a value), ``tabular`` (the ``Tabular``
type) and ``base`` (``Plan``, ``FieldSource``, ``Importer``, ``Asked``). The steps import
only the steps before them (``read`` ← ``match`` ← ``plan``) and never a format; a format
imports steps and low modules, never another format; ``detect``, the entry, imports the
registry. ``tests/test_import_path.py`` checks these imports and traces an import's calls.
"""
