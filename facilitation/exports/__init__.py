"""Report renderers: Markdown, HTML (and PDF from it), raw data as CSV and JSON."""
