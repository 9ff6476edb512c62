"""The Master's side of remote runners: credentials, sessions on /runner, commands."""
