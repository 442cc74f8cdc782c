"""Figures (matplotlib, written as PNG) and tables (CSV, Markdown)."""
