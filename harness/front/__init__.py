"""Front ends: the command line, the CI gate, the pytest plugin and the one presentation
module they share. They use the engine; nothing below imports them."""
