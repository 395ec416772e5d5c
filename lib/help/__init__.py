"""The help documentation: Markdown pages in both languages, searchable by word."""
