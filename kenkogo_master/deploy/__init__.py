"""App deployment: packages and their installs, the supervisor that runs them, runners."""
