"""Forecast metrics (hit rate, PAI, PEI*) and rolling-origin backtests (pure library)."""
