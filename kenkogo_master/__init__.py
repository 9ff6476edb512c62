"""KenkoGo Master: a message-scheduling hub for chat bots."""

__version__ = "0.1.0"
