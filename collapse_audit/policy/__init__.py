"""Policy: the YAML file that says where fields live, how checks are tuned, and which rules gate."""

from .load import Policy, RuleSpec, default_policy_path, load_policy, resolve_policy_path

__all__ = ["Policy", "RuleSpec", "default_policy_path", "load_policy", "resolve_policy_path"]
