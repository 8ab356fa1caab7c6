"""Incident data: readers, the offence taxonomy, validation and the store (pure library)."""
