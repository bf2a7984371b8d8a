"""The only writer of files: the report folder (HTML, Markdown, summary JSON, CSV,
charts), its words, tables and templates.

:mod:`.writer` builds a report folder and :mod:`.folder` decides which folder it may
replace and moves it into place. :mod:`.pages` says what the HTML and Markdown pages
hold, with :mod:`.sections` and :mod:`.figures`, rendered through :mod:`.markup` from
``templates/``. :mod:`.charts` draws the charts, :mod:`.words` writes the sentences and
:mod:`.tables` lays out the summary table.
"""
