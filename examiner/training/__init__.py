"""Qt-free training."""
