"""Systems under test. Each registers in the ``splitbrain.targets`` entry-point group
(pyproject.toml), as a user's own target does; see ``splitbrain.harness.base.plugins``."""
