"""Qt-free report."""
