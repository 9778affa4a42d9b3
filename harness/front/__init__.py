"""Front ends: the command line (``cli``, and a module per sub-command that it imports only
when that sub-command runs), the CI gate, the pytest plugin and the one presentation module
they share. They use the engine; nothing below imports them."""
