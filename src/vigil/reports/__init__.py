"""HTML and PDF reports, charts and maps."""
