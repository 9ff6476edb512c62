"""Admin accounts, their browser sessions, CSRF tokens, login throttling and the audit trail."""
