"""Entry point for torchrun in tests: runs the ``edgebind`` CLI in each rank."""

from edgebind.cli import main

if __name__ == "__main__":
    main()
