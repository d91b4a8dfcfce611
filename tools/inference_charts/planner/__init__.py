"""Sizing planner: from a model and a cluster to a parallel layout, a per-GPU memory budget and a values
file. ``catalog`` holds the facts, ``memory`` the arithmetic, ``plan`` the search and its reasons,
``values`` the chart values, ``report`` the text and JSON views, ``command`` the CLI glue."""
