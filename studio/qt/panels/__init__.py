"""The window's pages: train, runs, and placeholders for what comes next."""
