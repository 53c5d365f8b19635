"""Entry point of the app bundle (see build.spec): the ``studio`` command, so the bundled
executable alone opens the window and ``--selftest`` / subcommands work as from source."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen Windows/macOS child process must stop here
    from studio.cli import main

    # macOS Finder once passed a process serial number (-psn_0_123) to apps it launched
    sys.exit(main([arg for arg in sys.argv[1:] if not arg.startswith("-psn_")]))
