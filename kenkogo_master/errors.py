"""Error codes the Master reports, and the exception that carries them to the wire."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Every `code` the Master may put in a `{code, message}` answer."""

    INVALID_PAYLOAD = "invalid_payload"  # fails validation: wrong types, missing fields
    INVALID_JSON = "invalid_json"  # a frame or body that is not JSON
    UNKNOWN_EVENT = "unknown_event"  # an event or frame type nobody handles
    PAYLOAD_TOO_LARGE = "payload_too_large"  # over limits.max_payload
    ALREADY_REGISTERED = "already_registered"  # a second register on one connection
    NOT_REGISTERED = "not_registered"  # an event that needs a registered app
    UNAUTHORIZED = "unauthorized"  # missing or wrong token
    FORBIDDEN = "forbidden"  # a token without the scope needed
    NOT_FOUND = "not_found"  # an unknown id or route
    METHOD_NOT_ALLOWED = "method_not_allowed"  # a known route asked with the wrong HTTP method
    ILLEGAL_TRANSITION = "illegal_transition"  # a state change the state machine forbids
    NAME_HELD = "name_held"  # resume refused while an operator holds the name
    REGISTER_TIMEOUT = "register_timeout"
    HEARTBEAT_TIMEOUT = "heartbeat_timeout"
    INVALID_REGEX = "invalid_regex"
    UNKNOWN_MESSAGE = "unknown_message"
    NOT_A_REQUEST = "not_a_request"  # answer_request naming a message or notice, not a request
    TEMPLATE_MISSING_PARAM = "template_missing_param"
    UNKNOWN_TEMPLATE = "unknown_template"
    INVALID_TEMPLATE_PARAM = "invalid_template_param"
    DRIVER_UNAVAILABLE = "driver_unavailable"
    OVERLOADED = "overloaded"  # a bounded queue is full
    SHUTTING_DOWN = "shutting_down"  # the Master is stopping: send it again to the next one
    STORAGE_UNAVAILABLE = "storage_unavailable"  # the database refuses writes: nothing was kept
    KICKED = "kicked"  # an operator disconnected the app
    ACTION_FAILED = "action_failed"  # the driver (or its platform) refused to send
    ACTION_TIMEOUT = "action_timeout"  # the driver did not answer an action in time
    INVALID_ANSWER = "invalid_answer"  # the driver's answer to an action was not understood
    INVALID_CREDENTIALS = "invalid_credentials"  # a login with a wrong name or password
    WRONG_PASSWORD = "wrong_password"  # a password change whose old password is wrong
    CSRF_FAILED = "csrf_failed"  # a write with the session cookie but no or a wrong X-CSRF-Token
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"  # a browser page from outside server.allowed_origins
    CLIENT_CERTIFICATE_REQUIRED = "client_certificate_required"  # an agent without a CA-signed cert
    SESSION_REQUIRED = "session_required"  # needs a signed-in account, not a bearer token
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # failed logins: refused for a while
    PATH_OUTSIDE_ROOT = "path_outside_root"  # a file path that would leave the file area
    INVALID_PATH = "invalid_path"  # a file path that is malformed: NUL, control bytes, too long
    SPECIAL_FILE = "special_file"  # a device, FIFO or socket: never opened, moved or removed
    ALREADY_EXISTS = "already_exists"  # the target exists and overwrite was not asked for
    NOT_A_FOLDER = "not_a_folder"
    NOT_A_FILE = "not_a_file"
    FOLDER_NOT_EMPTY = "folder_not_empty"  # removing a folder with contents needs recursive=true
    NOT_TEXT = "not_text"  # the text editor opens UTF-8 only
    TOO_LARGE_TO_EDIT = "too_large_to_edit"  # over files.max_edit
    VERSION_MISMATCH = "version_mismatch"  # If-Match names a version the file no longer has
    VERSION_REQUIRED = "version_required"  # changing an existing text needs If-Match
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    NO_SPACE = "no_space"  # the disk or quota is full
    FILE_ERROR = "file_error"  # the file system refused: permissions, read-only, another device
    UPLOAD_OFFSET_MISMATCH = "upload_offset_mismatch"  # a chunk that does not start where it ends
    UPLOAD_BUSY = "upload_busy"  # another request is adding a chunk to the same upload
    UPLOAD_INCOMPLETE = "upload_incomplete"  # a commit before every byte arrived
    TOO_MANY_UPLOADS = "too_many_uploads"  # the unfinished uploads a Master keeps at once
    MAINTENANCE_RUNNING = "maintenance_running"  # another database operation has not ended
    BACKUP_UNSUPPORTED = "backup_unsupported"  # the engine is backed up with its own tools
    UNKNOWN_SETTING = "unknown_setting"  # no configuration key of that name
    RESTART_REQUIRED = "restart_required"  # a key that only a restart changes
    LAST_ACCOUNT = "last_account"  # disabling it would leave no account that can sign in
    OWN_ACCOUNT = "own_account"  # a session may not disable the account it is signed in with
    INVALID_MANIFEST = "invalid_manifest"  # a package's kenkogo.toml is missing or wrong
    MASTER_VERSION_MISMATCH = "master_version_mismatch"  # a package made for other Masters
    INVALID_ARCHIVE = "invalid_archive"  # not a readable zip or tar.gz
    ARCHIVE_UNSAFE_PATH = "archive_unsafe_path"  # an absolute name or `..`: it would escape
    ARCHIVE_LINK = "archive_link"  # a symbolic or hard link inside a package
    ARCHIVE_SPECIAL_FILE = "archive_special_file"  # a device, FIFO or socket inside a package
    ARCHIVE_TOO_LARGE = "archive_too_large"  # too many entries, too many bytes: a bomb
    INSTALL_RUNNING = "install_running"  # the revision is being installed right now
    NOT_INSTALLED = "not_installed"  # a deployment of an app revision that is not installed
    RUNNER_OFFLINE = "runner_offline"  # a command to a runner that is not connected
    NO_RUNNER_MATCHES = "no_runner_matches"  # a deployment's placement names no usable runner
    INTERNAL = "internal"  # a bug: logged with its traceback, answered without it


class HubError(Exception):
    """A failure with a wire code; `params` fill the translated message."""

    def __init__(self, code: ErrorCode, **params: Any) -> None:
        super().__init__(code.value, params)
        self.code = code
        self.params = params

    @property
    def text_key(self) -> str:
        """Return the i18n key of this error's message."""
        return f"error.{self.code.value}"
