"""Community impact: assessment, indicators, exceptionality guardrails, fairness."""
