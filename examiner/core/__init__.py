"""Qt-free core: evidence intake, case file, audit log, tasks, settings."""
