"""``python -m collapse_audit``: the same command as ``collapse-audit``."""

from .cli import main

if __name__ == "__main__":  # guarded: spawned worker processes import this module too
    main()
