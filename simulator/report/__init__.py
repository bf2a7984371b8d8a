"""The only writer of files: the report folder (HTML, Markdown, summary JSON, CSV,
charts), its words, tables and templates."""
