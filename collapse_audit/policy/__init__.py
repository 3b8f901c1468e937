"""Policy: the YAML file that says where fields live, how checks are tuned, and which rules gate."""

from .discovery import PolicyLocation, default_policy_path, find_policy
from .load import Policy, RuleSpec, load_policy, resolve_policy_path

__all__ = ["Policy", "PolicyLocation", "RuleSpec", "default_policy_path", "find_policy", "load_policy",
           "resolve_policy_path"]
