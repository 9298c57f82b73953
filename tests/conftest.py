"""Settings for the whole suite."""

from hypothesis import settings

# A busy machine must not fail a property test: no per-example wall-clock deadline
# (Hypothesis's default is 200 ms). The examples' number stays each test's own.
settings.register_profile("warmline", deadline=None)
settings.load_profile("warmline")
