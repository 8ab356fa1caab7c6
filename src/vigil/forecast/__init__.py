"""Forecasters of serious violence per area (pure library): fit on the past, predict risk."""
