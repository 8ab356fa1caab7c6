"""Forecast metrics (hit rate, PAI, PEI*) and rolling-origin backtests (pure library).

Where things are:

- :mod:`vigil.evaluate.metrics`: ``hit_rate``, ``pai``, ``pei``, ``pei_star``, ``max_hits``,
  ``poisson_log_likelihood``, ``top_area_stability``, ``selection_weights``, ``score`` (all of
  them for one window), ``hit_rate_curve``; always over the *clipped* area.
- :mod:`vigil.evaluate.windows`: horizons (``parse_step``), rolling origins, what a model may
  see before an origin (``past_of``) and what was observed in a window (``observed_counts``).
- :mod:`vigil.evaluate.backtest`: ``backtest(incidents, models, start=, end=, ...)`` ->
  ``BacktestResult`` (tidy frame, curves, comparison, JSON).
- :mod:`vigil.evaluate.bootstrap`: ``compare_to_baselines``, the paired bootstrap over origins.
- :mod:`vigil.evaluate.parallel`: ``run_tasks`` on a process pool or a Dask cluster.
- :mod:`vigil.evaluate.report`: ``write_report`` (JSON, CSV, self-contained HTML).
- :mod:`vigil.evaluate.study_area`: which boundary clips the grid for a dataset.

Nothing is imported here, so ``import vigil.evaluate.metrics`` stays light (no matplotlib).
"""
