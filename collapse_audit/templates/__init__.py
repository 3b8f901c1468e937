"""Files ``collapse-audit init`` writes: the starter policy, the CI workflow and the pre-commit hook."""
