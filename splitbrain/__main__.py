from splitbrain.harness.front.cli import console

console()
