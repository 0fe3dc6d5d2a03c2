"""The Claude planner (`planner`), with the checks on the copy it writes (`copy_checks`) and the tools of
its planning conversation (`plan_tools`)."""

from .planner import DEFAULT_MODEL, PRICES_PER_MILLION, ClaudePlanner, from_environment, price_per_million

__all__ = ["DEFAULT_MODEL", "PRICES_PER_MILLION", "ClaudePlanner", "from_environment", "price_per_million"]
