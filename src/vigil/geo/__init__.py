"""Geography in metres: projections, grids clipped to a boundary, area polygons (pure library)."""
