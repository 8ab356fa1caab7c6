"""Vigil: accountable, time-limited, intelligence-led patrol deployments.

Vigil works on areas and times, never on named people. See ARCHITECTURE in docs/.
"""

__version__ = "0.1.0"
