"""Qt-free analysis."""
