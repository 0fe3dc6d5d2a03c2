"""The closed loops, one playbook each: detect, diagnose, act, verify, decide."""
