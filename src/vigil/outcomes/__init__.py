"""Evaluation of finished deployments: difference-in-differences, displacement."""
