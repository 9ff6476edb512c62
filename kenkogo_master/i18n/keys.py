"""Message keys the Master itself uses, marked for babel's extractor."""

from __future__ import annotations


def N_(key: str) -> str:
    """Mark a message key for extraction and return it unchanged."""
    return key


def NP_(key: str) -> str:
    """Mark a message key that has plural forms for extraction and return it unchanged."""
    return key


# Errors: the `message` of every `{code, message}` is `error.<code>`; placeholders in braces.
INVALID_PAYLOAD = N_("error.invalid_payload")  # {detail}
INVALID_JSON = N_("error.invalid_json")
UNKNOWN_EVENT = N_("error.unknown_event")  # {event}
PAYLOAD_TOO_LARGE = N_("error.payload_too_large")  # {size} {limit}
ALREADY_REGISTERED = N_("error.already_registered")
NOT_REGISTERED = N_("error.not_registered")
UNAUTHORIZED = N_("error.unauthorized")
FORBIDDEN = N_("error.forbidden")
NOT_FOUND = N_("error.not_found")
ILLEGAL_TRANSITION = N_("error.illegal_transition")  # {from_state} {to_state}
NAME_HELD = N_("error.name_held")  # {name}
INTERNAL = N_("error.internal")
REGISTER_TIMEOUT = N_("error.register_timeout")
HEARTBEAT_TIMEOUT = N_("error.heartbeat_timeout")
INVALID_REGEX = N_("error.invalid_regex")  # {pattern} {detail}
UNKNOWN_MESSAGE = N_("error.unknown_message")  # {message_id}
NOT_A_REQUEST = N_("error.not_a_request")  # {message_id} {kind}
TEMPLATE_MISSING_PARAM = N_("error.template_missing_param")  # {template} {param}
UNKNOWN_TEMPLATE = N_("error.unknown_template")  # {template}
INVALID_TEMPLATE_PARAM = N_("error.invalid_template_param")  # {template} {param}
DRIVER_UNAVAILABLE = N_("error.driver_unavailable")
OVERLOADED = N_("error.overloaded")
SHUTTING_DOWN = N_("error.shutting_down")
STORAGE_UNAVAILABLE = N_("error.storage_unavailable")
KICKED = N_("error.kicked")
KICKED_WITH_REASON = N_("error.kicked_with_reason")  # {reason}: `kicked` with the operator's why
ACTION_FAILED = N_("error.action_failed")  # {driver} {detail}
ACTION_TIMEOUT = N_("error.action_timeout")  # {driver} {detail}
INVALID_ANSWER = N_("error.invalid_answer")  # {driver} {detail}
METHOD_NOT_ALLOWED = N_("error.method_not_allowed")  # {method} {allowed}
INVALID_CREDENTIALS = N_("error.invalid_credentials")
WRONG_PASSWORD = N_("error.wrong_password")
CSRF_FAILED = N_("error.csrf_failed")
ORIGIN_NOT_ALLOWED = N_("error.origin_not_allowed")  # {origin}
CLIENT_CERTIFICATE_REQUIRED = N_("error.client_certificate_required")
SESSION_REQUIRED = N_("error.session_required")
TOO_MANY_ATTEMPTS = N_("error.too_many_attempts")  # {retry_after}
PATH_OUTSIDE_ROOT = N_("error.path_outside_root")  # {path} {reason}
INVALID_PATH = N_("error.invalid_path")  # {path} {detail}
SPECIAL_FILE = N_("error.special_file")  # {path}
ALREADY_EXISTS = N_("error.already_exists")  # {path}
NOT_A_FOLDER = N_("error.not_a_folder")  # {path}
NOT_A_FILE = N_("error.not_a_file")  # {path}
FOLDER_NOT_EMPTY = N_("error.folder_not_empty")  # {path}
NOT_TEXT = N_("error.not_text")  # {path}
TOO_LARGE_TO_EDIT = N_("error.too_large_to_edit")  # {size} {limit}
VERSION_MISMATCH = N_("error.version_mismatch")  # {path}
VERSION_REQUIRED = N_("error.version_required")  # {path}
RANGE_NOT_SATISFIABLE = N_("error.range_not_satisfiable")  # {size}
NO_SPACE = N_("error.no_space")
FILE_ERROR = N_("error.file_error")  # {path} {detail}
UPLOAD_OFFSET_MISMATCH = N_("error.upload_offset_mismatch")  # {offset} {asked}
UPLOAD_BUSY = N_("error.upload_busy")
UPLOAD_INCOMPLETE = N_("error.upload_incomplete")  # {offset} {size}
TOO_MANY_UPLOADS = N_("error.too_many_uploads")  # {limit}
MAINTENANCE_RUNNING = N_("error.maintenance_running")  # {operation}
BACKUP_UNSUPPORTED = N_("error.backup_unsupported")  # {engine} {tool}
UNKNOWN_SETTING = N_("error.unknown_setting")  # {key}
RESTART_REQUIRED = N_("error.restart_required")  # {key}
LAST_ACCOUNT = N_("error.last_account")  # {name}
OWN_ACCOUNT = N_("error.own_account")  # {name}
INVALID_MANIFEST = N_("error.invalid_manifest")  # {field} {detail}
MASTER_VERSION_MISMATCH = N_("error.master_version_mismatch")  # {id} {wanted} {version}
INVALID_ARCHIVE = N_("error.invalid_archive")  # {detail}
ARCHIVE_UNSAFE_PATH = N_("error.archive_unsafe_path")  # {name}
ARCHIVE_LINK = N_("error.archive_link")  # {name}
ARCHIVE_SPECIAL_FILE = N_("error.archive_special_file")  # {name}
ARCHIVE_TOO_LARGE = N_("error.archive_too_large")  # {detail}
INSTALL_RUNNING = N_("error.install_running")  # {id} {revision}
NOT_INSTALLED = N_("error.not_installed")  # {app_id} {revision}
RUNNER_OFFLINE = N_("error.runner_offline")  # {id}
NO_RUNNER_MATCHES = N_("error.no_runner_matches")  # {placement}

# Reasons carried by the `state` event sent to apps.
STATE_REGISTERED = N_("state.registered")
STATE_SCHEDULING_STARTED = N_("state.scheduling_started")
STATE_PAUSED_BY_OPERATOR = N_("state.paused_by_operator")
STATE_RESUMED_BY_OPERATOR = N_("state.resumed_by_operator")
STATE_NAME_HELD = N_("state.name_held")
STATE_NAME_RELEASED = N_("state.name_released")
STATE_KICKED = N_("state.kicked")
STATE_RESUMED = N_("state.resumed")
STATE_RESUMED_ELSEWHERE = N_("state.resumed_elsewhere")
STATE_CONNECTION_CLOSED = N_("state.connection_closed")
STATE_MASTER_STOPPED = N_("state.master_stopped")
STATE_MASTER_RESTARTED = N_("state.master_restarted")
STATE_REGISTER_TIMEOUT = N_("state.register_timeout")
STATE_HEARTBEAT_TIMEOUT = N_("state.heartbeat_timeout")

# Templates apps may render; this one shows plural forms at work.
TEMPLATE_ITEMS_COUNT = NP_("template.items_count")  # {count} as {"plural": n}

# Templates of the weather example app (examples/weather/weather.py), in every shipped locale.
TEMPLATE_WEATHER_REPORT = N_("template.weather_report")  # {city} {temperature} {humidity}
TEMPLATE_WEATHER_UNKNOWN_CITY = N_("template.weather_unknown_city")  # {city}
TEMPLATE_WEATHER_USAGE = N_("template.weather_usage")  # {command}
